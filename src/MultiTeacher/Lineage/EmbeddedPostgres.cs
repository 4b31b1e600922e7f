using System.Diagnostics;
using Npgsql;

namespace MultiTeacher.Lineage;

/// <summary>
/// A private PostgreSQL server that `mt` starts and owns: the system's initdb/pg_ctl on a data
/// directory of its own, reachable through a Unix socket in that directory, and over TCP only when
/// <see cref="Listen"/> is set, then with a password (SCRAM) for every TCP client, so workers on
/// other machines can share it. As root the server runs as the postgres user (initdb refuses root),
/// in a directory owned by it.
/// </summary>
public sealed partial class EmbeddedPostgres
{
    public const string User = "multiteacher";
    public const string Database = "multiteacher";

    public string Root { get; }
    public int Port { get; }
    public string DataDirectory => Path.Combine(Root, "data");
    public string SocketDirectory => Root;

    /// <summary>TCP addresses to serve as well as the socket (127.0.0.1, or * for every interface); null: the socket only.</summary>
    public string? Listen { get; init; }

    /// <summary>The password TCP clients must give as <see cref="User"/>; required with <see cref="Listen"/>.</summary>
    public string? Password { get; init; }

    /// <summary>With <see cref="Listen"/>: TCP clients must use TLS (a self-signed <see cref="ServerCertificate"/>); plain TCP is refused.</summary>
    public bool Tls { get; init; }

    /// <summary>The server's certificate, which clients verify it by (sslrootcert).</summary>
    public string CertificatePath => Path.Combine(DataDirectory, ServerCertificate.CertificateFile);

    public EmbeddedPostgres(string root, int port = 54329)
    {
        Root = Path.GetFullPath(root);
        Port = port;
    }

    /// <summary>$MT_DATA/postgres; as root /var/lib/multiteacher/postgres (the postgres user cannot enter /root); else ~/.local/share/multiteacher/postgres.</summary>
    public static EmbeddedPostgres Default()
    {
        var data = Environment.GetEnvironmentVariable("MT_DATA");
        if (string.IsNullOrEmpty(data))
            data = IsRoot ? "/var/lib/multiteacher"
                : Path.Combine(Environment.GetEnvironmentVariable("XDG_DATA_HOME") is { Length: > 0 } x ? x
                    : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share"), "multiteacher");
        return new EmbeddedPostgres(Path.Combine(data, "postgres"));
    }

    private static bool IsRoot => Environment.UserName == "root";

    public string ConnectionString(string database = Database) =>
        new NpgsqlConnectionStringBuilder { Host = SocketDirectory, Port = Port, Username = User, Database = database, Pooling = true }.ConnectionString;

    public bool IsRunning => File.Exists(Path.Combine(DataDirectory, "postmaster.pid")) && PgCtl("status", allowFailure: true) == 0;

    /// <summary>Initialises the cluster on first use, starts the server if it is not running, and makes sure the database exists.</summary>
    public string EnsureRunning()
    {
        Directory.CreateDirectory(Root);
        // Several mt processes (or test threads) may start together: one initialises and starts, the others wait.
        using var gate = AcquireLock();
        if (IsRoot) Run("chown", ["postgres:postgres", Root], asPostgres: false);
        if (!File.Exists(Path.Combine(DataDirectory, "PG_VERSION")))
            Run(Binary("initdb"), ["-D", DataDirectory, "-U", User, "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"]);
        if (Listen is not null)
        {
            if (string.IsNullOrEmpty(Password)) throw new BadInputException("serving PostgreSQL over TCP needs a password (MT_DB_PASSWORD)");
            var changed = AllowPasswordClients() | ConfigureTls();
            // A server started for the socket alone is restarted to listen.
            if (IsRunning && Listening() != Listen) PgCtl("stop");
            else if (changed && IsRunning) PgCtl("reload");
        }
        if (!IsRunning)
            PgCtl("start");
        using (var connection = new NpgsqlConnection(ConnectionString("postgres")))
        {
            connection.Open();
            // ALTER ROLE takes no parameters: the password is a quoted literal (quotes doubled), sent over the socket only.
            if (Listen is not null) new NpgsqlCommand($"ALTER ROLE \"{User}\" PASSWORD '{Password!.Replace("'", "''")}'", connection).ExecuteNonQuery();
            using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", connection) { Parameters = { new() { Value = Database } } };
            if (exists.ExecuteScalar() is null)
                new NpgsqlCommand($"CREATE DATABASE \"{Database}\"", connection).ExecuteNonQuery();
        }
        return ConnectionString();
    }

    private FileStream AcquireLock()
    {
        var path = Path.Combine(Root, ".mt-lock");
        for (var attempt = 0; ; attempt++)
        {
            try { return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
            catch (IOException) when (attempt < 600) { Thread.Sleep(100); }
        }
    }

    public void Stop()
    {
        if (File.Exists(Path.Combine(DataDirectory, "postmaster.pid"))) PgCtl("stop");
        NpgsqlConnection.ClearAllPools();
    }

    private int PgCtl(string action, bool allowFailure = false)
    {
        var args = new List<string> { "-D", DataDirectory, "-w" };
        if (action == "start") args.AddRange(["-l", Path.Combine(Root, "server.log"), "-o", $"-k {SocketDirectory} -p {Port} -c listen_addresses='{Listen}'"]);
        if (action == "stop") args.AddRange(["-m", "fast"]);
        args.Add(action);
        return Run(Binary("pg_ctl"), args, allowFailure: allowFailure);
    }

    /// <summary>The newest installed PostgreSQL's binary of that name.</summary>
    public static string Binary(string name)
    {
        var candidates = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var v) ? v : 0)
                .Select(d => Path.Combine(d, "bin", name)).Where(File.Exists)
            : [];
        return candidates.FirstOrDefault() ?? name;
    }

    private static int Run(string file, IEnumerable<string> args, bool asPostgres = true, bool allowFailure = false)
    {
        var psi = asPostgres && IsRoot ? new ProcessStartInfo("runuser", ["-u", "postgres", "--", file, .. args]) : new ProcessStartInfo(file, args);
        psi.RedirectStandardOutput = psi.RedirectStandardError = true;
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0 && !allowFailure)
            throw new InvalidOperationException($"{Path.GetFileName(file)} {string.Join(' ', args)} failed (exit {process.ExitCode}): {stderr.Trim()} {stdout.Result.Trim()}");
        return process.ExitCode;
    }
}
