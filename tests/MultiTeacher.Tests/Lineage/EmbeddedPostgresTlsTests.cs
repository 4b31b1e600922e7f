using System.Diagnostics;
using MultiTeacher.Lineage;
using MultiTeacher.Tests.Cli;
using MultiTeacher.Tests.Jobs;
using Npgsql;
using static MultiTeacher.Tests.Jobs.JobHarness;

namespace MultiTeacher.Tests.Lineage;

/// <summary>The private server's TCP listener with TLS: its own certificate, plain TCP refused, workers verifying it.</summary>
[Trait("Category", TestCategory.Database)]
public sealed class EmbeddedPostgresTlsTests : TempDirectoryTest
{
    private readonly string _password = $"pw'{Guid.NewGuid():N}";

    [Fact]
    public void WithTls_OnlyTlsClientsGetIn_VerifiedAgainstTheServersOwnCertificate_AndAPlainOneIsRefusedInOneLine()
    {
        using var server = new RemoteServer(tls: true, _password);
        var data = server.Server.DataDirectory;
        var key = Path.Combine(data, ServerCertificate.KeyFile);
        Assert.Equal($"{(Environment.UserName == "root" ? "postgres" : Environment.UserName)} 600", OwnerAndMode(key));
        Assert.Contains("ssl = on", File.ReadAllLines(Path.Combine(data, "postgresql.conf")));
        var hba = File.ReadAllLines(Path.Combine(data, "pg_hba.conf"));
        Assert.Contains("hostssl all all 0.0.0.0/0 scram-sha-256", hba);
        Assert.DoesNotContain(hba, l => l.StartsWith("host ", StringComparison.Ordinal));

        // What `mt db url` prints: verify-full against the certificate in the data directory.
        var url = server.Url(password: null);
        Assert.Equal($"postgresql://multiteacher@127.0.0.1:{server.Server.Port}/multiteacher?sslmode=verify-full&sslrootcert={data}/server.crt", url);
        Assert.Equal(url, server.Server.ClientUrl());

        using (var tls = new NpgsqlConnection(DatabaseUrl.ToConnectionString(server.Url(_password))))
        {
            tls.Open();
            Assert.True((bool)new NpgsqlCommand("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", tls).ExecuteScalar()!);
        }

        // Another certificate of the same names as root: the server is not the one it vouches for.
        var impostor = Directory.CreateDirectory(Path.Combine(TempDir, "impostor")).FullName;
        ServerCertificate.EnsureIn(impostor, "127.0.0.1");
        var wrongRoot = server.Url(_password).Replace($"{data}/server.crt", $"{impostor}/server.crt");
        var refused = Assert.ThrowsAny<NpgsqlException>(() =>
        {
            using var c = new NpgsqlConnection(DatabaseUrl.ToConnectionString(wrongRoot));
            c.Open();
        });
        Assert.IsType<System.Security.Authentication.AuthenticationException>(refused.InnerException);
        var (code, output, error) = CliRunner.Run("", "runs", "--database", wrongRoot);
        Assert.Equal((2, "", "mt: the database's TLS certificate did not verify: it is not the sslrootcert given, or the URL's host is not a name it holds\n"), (code, output, error));

        var plain = server.Url(_password).Split('?')[0] + "?sslmode=disable";
        (code, output, error) = CliRunner.Run("", "runs", "--database", plain);
        Assert.Equal(2, code);
        Assert.Equal("", output);
        var line = Assert.Single(error.TrimEnd('\n').Split('\n'));
        Assert.StartsWith("mt: the database refused the connection: no pg_hba.conf entry for host \"127.0.0.1\"", line);
        Assert.Contains("no encryption; the server takes TLS connections only", line);
        Assert.DoesNotContain(_password, line);
    }

    [Fact]
    public void AWorkerGivenTheUrl_ReachesTheServerOverTls()
    {
        using var server = new RemoteServer(tls: true, _password);
        using var worker = RemoteServer.Worker(server.Url(password: null), Path.Combine(TempDir, "shared"), TempDir, _password);
        WaitUntil(() => RegisteredServers(server.Socket) >= 1, seconds: 60, what: "the worker to register over TLS");
        const string tcp = "FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) WHERE a.client_addr IS NOT NULL AND a.usename = 'multiteacher'";
        Assert.True(Scalar(server.Socket, $"SELECT count(*) {tcp} AND s.ssl") >= 1, worker.Output);
        Assert.Equal(0L, Scalar(server.Socket, $"SELECT count(*) {tcp} AND NOT s.ssl"));
    }

    [Fact]
    public void TlsWithoutListen_IsBadInput()
    {
        var (code, _, error) = CliRunner.Run("", "db", "start", "--tls");
        Assert.Equal(2, code);
        Assert.Equal("mt: --tls secures the TCP listener: give --listen ADDRESSES too\n", error.Replace("\r", ""));
    }

    private static string OwnerAndMode(string path)
    {
        using var stat = Process.Start(new ProcessStartInfo("stat", ["-c", "%U %a", path]) { RedirectStandardOutput = true })!;
        var owner = stat.StandardOutput.ReadToEnd().Trim();
        stat.WaitForExit();
        return owner;
    }
}
