using Npgsql;

namespace MultiTeacher.Lineage;

public sealed partial class EmbeddedPostgres
{
    /// <summary>
    /// Every TCP client authenticates with its password (SCRAM); the socket stays trusted, as only this
    /// user can reach it. initdb's trusted loopback lines would match first, so they are turned off.
    /// </summary>
    /// <returns>Whether pg_hba.conf changed (a running server must reload it).</returns>
    private bool AllowPasswordClients()
    {
        // hostssl matches TLS connections alone, so with TLS a plain TCP client finds no line and is refused.
        string[] Lines(string type) => [$"{type} all all 0.0.0.0/0 scram-sha-256", $"{type} all all ::/0 scram-sha-256"];
        var (wanted, other) = Tls ? (Lines("hostssl"), Lines("host")) : (Lines("host"), Lines("hostssl"));
        return Rewrite("pg_hba.conf", before =>
        {
            var lines = before.Where(l => !other.Contains(l))
                .Select(l => l.StartsWith("host", StringComparison.Ordinal) && l.TrimEnd().EndsWith("trust", StringComparison.Ordinal) ? "# " + l : l).ToList();
            lines.AddRange(wanted.Where(w => !lines.Contains(w)));
            return lines;
        });
    }

    /// <summary>`ssl = on` in postgresql.conf with the certificate and key in the data directory (owned by the server's user), or no `ssl` line; true when the file changed.</summary>
    private bool ConfigureTls()
    {
        if (Tls && ServerCertificate.EnsureIn(DataDirectory, Listen) && IsRoot)
            Run("chown", ["postgres:postgres", CertificatePath, Path.Combine(DataDirectory, ServerCertificate.KeyFile)], asPostgres: false);
        return Rewrite("postgresql.conf", before => [.. before.Where(l => l != "ssl = on"), .. Tls ? ["ssl = on"] : Array.Empty<string>()]);
    }

    /// <summary>Rewrites a configuration file of the data directory (keeping its owner); true when it changed, so a running server must reload.</summary>
    private bool Rewrite(string name, Func<string[], IReadOnlyList<string>> change)
    {
        var path = Path.Combine(DataDirectory, name);
        var before = File.ReadAllLines(path);
        var after = change(before);
        if (after.SequenceEqual(before)) return false;
        File.WriteAllLines(path, after);
        return true;
    }

    private string? Listening() => Show("listen_addresses");

    /// <summary>A setting of the running server, asked over the socket.</summary>
    private string? Show(string setting)
    {
        using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        connection.Open();
        return new NpgsqlCommand($"SHOW {setting}", connection).ExecuteScalar() as string;
    }

    /// <summary>
    /// How a worker on another machine reaches this server: TCP to <paramref name="host"/>, password from
    /// its environment (not printed); with TLS verify-full against this server's certificate, which
    /// the worker's machine needs a copy of at the same path.
    /// </summary>
    public string TcpUrl(string host, bool tls, string database = Database) =>
        $"postgresql://{User}@{(host.Contains(':') ? $"[{host}]" : host)}:{Port}/{database}" + (tls ? $"?sslmode=verify-full&sslrootcert={Uri.EscapeDataString(CertificatePath).Replace("%2F", "/", StringComparison.Ordinal)}" : "");

    /// <summary>What clients use: the TCP URL while the server listens on TCP (with TLS when it is on), else the socket's connection string.</summary>
    public string ClientUrl()
    {
        if (!IsRunning || Listening() is not { Length: > 0 } listen) return ConnectionString();
        return TcpUrl(HostFor(listen), tls: Show("ssl") == "on");
    }

    /// <summary>The name workers reach a server listening on <paramref name="listen"/> by: this machine's for every interface, else its first address.</summary>
    public static string HostFor(string listen) =>
        listen.Split(',', StringSplitOptions.TrimEntries)[0] is "0.0.0.0" or "*" or "::" ? Environment.MachineName : listen.Split(',', StringSplitOptions.TrimEntries)[0];
}
