using MultiTeacher.Lineage;

namespace MultiTeacher.Tests.Jobs;

/// <summary>The private PostgreSQL as a head machine serves it: TCP on a random loopback port with a password (and TLS when asked); stopped and removed when disposed.</summary>
public sealed class RemoteServer : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "mt-pg-tcp-" + Guid.NewGuid().ToString("N")[..12]);

    public EmbeddedPostgres Server { get; }

    /// <summary>The test's own way in: the Unix socket, trusted.</summary>
    public string Socket { get; }

    public RemoteServer(bool tls, string password)
    {
        Server = new EmbeddedPostgres(_root, port: 59000 + Random.Shared.Next(0, 1000)) { Listen = "127.0.0.1", Password = password, Tls = tls };
        Socket = Server.EnsureRunning();
    }

    /// <summary>The URL workers are given (with TLS, verify-full against the server's certificate); the password in it when given, else the client's PGPASSWORD supplies it.</summary>
    public string Url(string? password)
    {
        var url = Server.TcpUrl("127.0.0.1", Server.Tls);
        return password is null ? url : url.Replace($"//{EmbeddedPostgres.User}@", $"//{EmbeddedPostgres.User}:{Uri.EscapeDataString(password)}@");
    }

    /// <summary>`mt worker` on queue "remote" as on a machine of its own: its own data and cache directories, only the URL, the password and the artifact root in common.</summary>
    public static MtProcess Worker(string url, string artifactRoot, string machine, string password) =>
        new(["worker", "--queues", "remote", "--database", url, "--cache-root", artifactRoot], new Dictionary<string, string>
        {
            ["MT_DATA"] = Path.Combine(machine, "data"),
            ["MT_CACHE"] = Path.Combine(machine, "cache"),
            ["PGPASSWORD"] = password,
        });

    public void Dispose()
    {
        Server.Stop();
        Directory.Delete(_root, recursive: true);
    }
}
