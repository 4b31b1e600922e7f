using System.Text.Json;
using MultiTeacher.Recipes;
using Npgsql;
using NpgsqlTypes;

namespace MultiTeacher.Lineage;

/// <summary>An artifact linked to a run: its role and direction, kind, hash and path.</summary>
public sealed record RunArtifact(string Direction, string Role, string Kind, string Sha256, long SizeBytes, string Path);

/// <summary>
/// Reads and writes lineage, the one owner of the lineage.* tables: recipes, runs and their stages
/// (LineageStore.Runs.cs), content-addressed artifacts, the edges between them, audits, and metrics
/// (LineageStore.Metrics.cs). Every value travels as a parameter, never as SQL text.
/// </summary>
public sealed partial class LineageStore(string connectionString)
{
    public string ConnectionString => connectionString;

    private NpgsqlConnection Open() => Sql.Open(connectionString);

    private static NpgsqlCommand Command(NpgsqlConnection c, string sql, params object?[] values) => Sql.Command(c, null, sql, values);

    public long RecordRecipe(string name, string resolvedYaml)
    {
        using var c = Open();
        var sha = ContentHash.OfText(resolvedYaml);
        return (long)Command(c, """
            INSERT INTO lineage.recipes (content_sha256, name, resolved_yaml) VALUES ($1, $2, $3)
            ON CONFLICT (content_sha256) DO UPDATE SET name = EXCLUDED.name RETURNING id
            """, sha, name, resolvedYaml).ExecuteScalar()!;
    }

    /// <summary>Hashes the file or directory and records it (once per kind, hash and path; directories with their file manifest); returns its id.</summary>
    public long RecordArtifact(string kind, string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        var manifest = Directory.Exists(full) ? ContentHash.Manifest(full) : null;
        var sha = manifest is null ? ContentHash.OfFile(full) : ContentHash.OfManifest(manifest);
        var size = manifest is null ? new FileInfo(full).Length : manifest.Keys.Sum(f => new FileInfo(System.IO.Path.Combine(full, f)).Length);
        using var c = Open();
        var command = Command(c, """
            INSERT INTO lineage.artifacts (kind, sha256, size_bytes, path, files) VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (kind, sha256, path) DO UPDATE SET size_bytes = EXCLUDED.size_bytes, files = EXCLUDED.files RETURNING id
            """, kind, sha, size, full, manifest is null ? null : JsonSerializer.Serialize(manifest));
        command.Parameters[4].NpgsqlDbType = NpgsqlDbType.Jsonb;
        return (long)command.ExecuteScalar()!;
    }

    /// <summary>The recorded file manifest of a directory artifact (null for a file).</summary>
    public IReadOnlyDictionary<string, string>? ArtifactFiles(string kind, string sha256, string path)
    {
        using var c = Open();
        return Command(c, "SELECT files::text FROM lineage.artifacts WHERE kind = $1 AND sha256 = $2 AND path = $3", kind, sha256, path).ExecuteScalar() is string json
            ? JsonSerializer.Deserialize<Dictionary<string, string>>(json) : null;
    }

    /// <summary>Replaces the run's environment with the one of the machine executing it, and its host.</summary>
    public void SetEnvironment(long runId, IReadOnlyDictionary<string, string> environment)
    {
        using var c = Open();
        var command = Command(c, "UPDATE lineage.runs SET environment = $2, host = $3 WHERE id = $1", runId, JsonSerializer.Serialize(environment), System.Net.Dns.GetHostName());
        command.Parameters[1].NpgsqlDbType = NpgsqlDbType.Jsonb;
        command.ExecuteNonQuery();
    }

    /// <summary>The environment recorded for the run (the executing worker's, once training began).</summary>
    public IReadOnlyDictionary<string, string> Environment(long runId)
    {
        using var c = Open();
        var json = (string?)Command(c, "SELECT environment::text FROM lineage.runs WHERE id = $1", runId).ExecuteScalar() ?? "{}";
        return JsonSerializer.Deserialize<Dictionary<string, string>>(json)!;
    }

    /// <summary>A run's audits, newest first: verdict, when, and the report's reason.</summary>
    public IReadOnlyList<(long Id, string Verdict, DateTime At, string Reason)> Audits(long runId)
    {
        using var c = Open();
        using var reader = Command(c, "SELECT id, verdict, created_at, coalesce(report->>'Reason', '') FROM lineage.audits WHERE run_id = $1 ORDER BY id DESC", runId).ExecuteReader();
        var audits = new List<(long, string, DateTime, string)>();
        while (reader.Read()) audits.Add((reader.GetInt64(0), reader.GetString(1), reader.GetDateTime(2), reader.GetString(3)));
        return audits;
    }

    public long RecordAudit(long runId, string verdict, string reportJson)
    {
        using var c = Open();
        var command = Command(c, "INSERT INTO lineage.audits (run_id, verdict, report) VALUES ($1, $2, $3) RETURNING id", runId, verdict, reportJson);
        command.Parameters[2].NpgsqlDbType = NpgsqlDbType.Jsonb;
        return (long)command.ExecuteScalar()!;
    }

    public void Link(long runId, long artifactId, string direction, string role)
    {
        using var c = Open();
        Command(c, "INSERT INTO lineage.edges (run_id, artifact_id, direction, role) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            runId, artifactId, direction, role).ExecuteNonQuery();
    }

    public IReadOnlyList<RunArtifact> Artifacts(long runId)
    {
        using var c = Open();
        using var reader = Command(c, """
            SELECT e.direction, e.role, a.kind, a.sha256, a.size_bytes, a.path FROM lineage.edges e
            JOIN lineage.artifacts a ON a.id = e.artifact_id WHERE e.run_id = $1 ORDER BY e.direction DESC, e.role
            """, runId).ExecuteReader();
        var result = new List<RunArtifact>();
        while (reader.Read())
            result.Add(new RunArtifact(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetInt64(4), reader.GetString(5)));
        return result;
    }

    /// <summary>Runs that produced this content (same sha256 and path, whatever kind each side called it).</summary>
    public IReadOnlyList<long> ProducersOf(string sha256, string path) => RunIds("""
        SELECT DISTINCT e.run_id FROM lineage.edges e JOIN lineage.artifacts a ON a.id = e.artifact_id
        WHERE e.direction = 'produced' AND a.sha256 = $1 AND a.path = $2 ORDER BY 1
        """, sha256, path);

    /// <summary>Runs that used this content.</summary>
    public IReadOnlyList<long> ConsumersOf(string sha256, string path) => RunIds("""
        SELECT DISTINCT e.run_id FROM lineage.edges e JOIN lineage.artifacts a ON a.id = e.artifact_id
        WHERE e.direction = 'used' AND a.sha256 = $1 AND a.path = $2 ORDER BY 1
        """, sha256, path);

    /// <summary>Artifacts whose sha256 starts with the prefix (taken literally: no wildcards) or whose path is the given path.</summary>
    public IReadOnlyList<RunArtifact> FindArtifacts(string shaPrefixOrPath)
    {
        using var c = Open();
        using var reader = Command(c, """
            SELECT DISTINCT '', '', kind, sha256, size_bytes, path FROM lineage.artifacts
            WHERE (length($1) > 0 AND starts_with(sha256, $1)) OR path = $2 ORDER BY path
            """, shaPrefixOrPath.ToLowerInvariant(), Path.GetFullPath(shaPrefixOrPath)).ExecuteReader();
        var result = new List<RunArtifact>();
        while (reader.Read())
            result.Add(new RunArtifact("", "", reader.GetString(2), reader.GetString(3), reader.GetInt64(4), reader.GetString(5)));
        return result;
    }

    /// <summary>Every teacher name lineage knows (roles teacher:NAME), in the order of the first run that used each: new teachers never shift old ones' colours.</summary>
    public IReadOnlyList<string> TeacherNames()
    {
        using var c = Open();
        using var reader = Command(c, """
            SELECT substr(role, length('teacher:') + 1) FROM lineage.edges WHERE starts_with(role, 'teacher:')
            GROUP BY role ORDER BY min(run_id), role
            """).ExecuteReader();
        var names = new List<string>();
        while (reader.Read()) names.Add(reader.GetString(0));
        return names;
    }

    private IReadOnlyList<long> RunIds(string sql, params object[] values)
    {
        using var c = Open();
        using var reader = Command(c, sql, values).ExecuteReader();
        var ids = new List<long>();
        while (reader.Read()) ids.Add(reader.GetInt64(0));
        return ids;
    }

}
