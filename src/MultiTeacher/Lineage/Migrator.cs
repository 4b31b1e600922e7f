using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace MultiTeacher.Lineage;

/// <summary>One numbered SQL file of migrations/ (NNNN_name.sql), embedded in the library.</summary>
public sealed record Migration(int Version, string Name, string Sql)
{
    public string Sha256 => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Sql)));
}

/// <summary>The database was migrated by newer code, or an applied migration no longer matches its file.</summary>
public sealed class MigrationException(string message) : Exception(message);

/// <summary>
/// Applies migrations in order, each in its own transaction, recording them in mt.schema_journal.
/// Serialised across processes by an advisory lock; refuses a database newer than the code and a
/// migration whose text changed after it was applied.
/// </summary>
public static class Migrator
{
    private const long LockKey = 0x4D54_4D49_4752;   // "MTMIGR"

    public static IReadOnlyList<Migration> Embedded()
    {
        var assembly = Assembly.GetExecutingAssembly();
        const string prefix = "MultiTeacher.Migrations.";
        return assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(prefix, StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
            .Select(n =>
            {
                var file = n[prefix.Length..^4];
                using var reader = new StreamReader(assembly.GetManifestResourceStream(n)!);
                return new Migration(int.Parse(file[..4]), file[5..], reader.ReadToEnd());
            })
            .OrderBy(m => m.Version)
            .ToList();
    }

    /// <summary>Applies what is missing; returns how many migrations ran.</summary>
    public static int Apply(string connectionString, IReadOnlyList<Migration>? migrations = null)
    {
        migrations ??= Embedded();
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        Execute(connection, null, "SELECT pg_advisory_lock($1)", LockKey);
        try
        {
            Execute(connection, null, """
                CREATE SCHEMA IF NOT EXISTS mt;
                CREATE TABLE IF NOT EXISTS mt.schema_journal (
                    version integer PRIMARY KEY, name text NOT NULL, sha256 text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
                """);
            var applied = new Dictionary<int, string>();
            using (var read = new NpgsqlCommand("SELECT version, sha256 FROM mt.schema_journal", connection))
            using (var rows = read.ExecuteReader())
                while (rows.Read()) applied[rows.GetInt32(0)] = rows.GetString(1);

            var newest = migrations.Count == 0 ? 0 : migrations.Max(m => m.Version);
            if (applied.Keys.Any(v => v > newest))
                throw new MigrationException($"the database is at schema version {applied.Keys.Max()}, newer than this code's {newest}; upgrade MultiTeacher");
            foreach (var m in migrations.Where(m => applied.ContainsKey(m.Version) && applied[m.Version] != m.Sha256))
                throw new MigrationException($"migration {m.Version:D4}_{m.Name} changed after it was applied (sha256 {applied[m.Version]} in the journal)");

            var count = 0;
            foreach (var m in migrations.Where(m => !applied.ContainsKey(m.Version)))
            {
                using var transaction = connection.BeginTransaction();
                Execute(connection, transaction, m.Sql);
                Execute(connection, transaction, "INSERT INTO mt.schema_journal (version, name, sha256) VALUES ($1, $2, $3)", m.Version, m.Name, m.Sha256);
                transaction.Commit();
                count++;
            }
            return count;
        }
        finally
        {
            Execute(connection, null, "SELECT pg_advisory_unlock($1)", LockKey);
        }
    }

    private static void Execute(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, params object[] parameters)
    {
        using var command = new NpgsqlCommand(sql, connection, transaction);
        foreach (var p in parameters) command.Parameters.Add(new NpgsqlParameter { Value = p });
        command.ExecuteNonQuery();
    }
}
