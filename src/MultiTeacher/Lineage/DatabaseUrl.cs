using Npgsql;

namespace MultiTeacher.Lineage;

/// <summary>
/// Reads a lineage database given as a URL (postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=MODE])
/// as well as an Npgsql connection string. Without a password in either, Npgsql takes it from
/// PGPASSWORD or ~/.pgpass, so it need not appear on a command line.
/// </summary>
public static class DatabaseUrl
{
    public static string ToConnectionString(string database)
    {
        if (!database.StartsWith("postgresql://", StringComparison.Ordinal) && !database.StartsWith("postgres://", StringComparison.Ordinal)) return database;
        if (!Uri.TryCreate(database, UriKind.Absolute, out var url) || url.Host.Length == 0 || url.AbsolutePath.Trim('/').Length == 0)
            throw new BadInputException($"database URL '{Redacted(database)}' is not postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE");
        var user = url.UserInfo.Split(':', 2);
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = url.Host,
            Port = url.IsDefaultPort || url.Port < 0 ? 5432 : url.Port,
            Database = Uri.UnescapeDataString(url.AbsolutePath.Trim('/')),
        };
        if (user[0].Length > 0) builder.Username = Uri.UnescapeDataString(user[0]);
        if (user.Length == 2) builder.Password = Uri.UnescapeDataString(user[1]);
        foreach (var pair in url.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var (key, value) = pair.Split('=', 2) is [var k, var v] ? (k, Uri.UnescapeDataString(v)) : (pair, "");
            switch (key)
            {
                case "sslmode":
                    builder.SslMode = value switch
                    {
                        "disable" => SslMode.Disable, "allow" => SslMode.Allow, "prefer" => SslMode.Prefer, "require" => SslMode.Require,
                        "verify-ca" => SslMode.VerifyCA, "verify-full" => SslMode.VerifyFull,
                        _ => throw new BadInputException($"database URL: sslmode '{value}' is not disable, allow, prefer, require, verify-ca or verify-full"),
                    };
                    break;
                case "sslrootcert": builder.RootCertificate = value; break;
                default: throw new BadInputException($"database URL: unknown parameter '{key}' (sslmode and sslrootcert are understood)");
            }
        }
        return builder.ConnectionString;
    }

    private static string Redacted(string url) => System.Text.RegularExpressions.Regex.Replace(url, "://([^:@/]*):[^@/]*@", "://$1:***@");
}
