using System.Text.Json;
using MultiTeacher.Recipes;
using Npgsql;
using NpgsqlTypes;

namespace MultiTeacher.Lineage;

/// <summary>A run as `mt runs` lists it.</summary>
public sealed record RunSummary(long Id, string Recipe, string Status, DateTime CreatedAt, DateTime? FinishedAt, int Steps,
    string? Error = null, string? Failure = null);

/// <summary>A stage of a run with its timing.</summary>
public sealed record StageRecord(string Kind, string Name, string Status, DateTime? StartedAt, DateTime? FinishedAt, int Attempts = 0, string? Worker = null);

/// <summary>An artifact linked to a run: its role and direction, kind, hash and path.</summary>
public sealed record RunArtifact(string Direction, string Role, string Kind, string Sha256, long SizeBytes, string Path);

/// <summary>
/// Reads and writes lineage: recipes, runs, content-addressed artifacts, the edges between them,
/// and metrics (written in batches with COPY). Every value travels as a parameter, never as SQL text.
/// </summary>
public sealed class LineageStore(string connectionString)
{
    public string ConnectionString => connectionString;

    private NpgsqlConnection Open()
    {
        var c = new NpgsqlConnection(connectionString);
        c.Open();
        return c;
    }

    private static NpgsqlCommand Command(NpgsqlConnection c, string sql, params object?[] values)
    {
        var command = new NpgsqlCommand(sql, c);
        foreach (var v in values) command.Parameters.Add(new NpgsqlParameter { Value = v ?? DBNull.Value });
        return command;
    }

    public long RecordRecipe(string name, string resolvedYaml)
    {
        using var c = Open();
        var sha = ContentHash.OfText(resolvedYaml);
        return (long)Command(c, """
            INSERT INTO lineage.recipes (content_sha256, name, resolved_yaml) VALUES ($1, $2, $3)
            ON CONFLICT (content_sha256) DO UPDATE SET name = EXCLUDED.name RETURNING id
            """, sha, name, resolvedYaml).ExecuteScalar()!;
    }

    /// <summary>Opens a run; a queued run has no start time until a worker begins it.</summary>
    public long StartRun(long recipeId, long seed, IReadOnlyDictionary<string, string> environment, string status = "running")
    {
        using var c = Open();
        var cmd = Command(c, """
            INSERT INTO lineage.runs (recipe_id, status, seed, host, environment, started_at)
            VALUES ($1, $5, $2, $3, $4, CASE WHEN $5 = 'running' THEN now() END) RETURNING id
            """, recipeId, seed, System.Net.Dns.GetHostName(), JsonSerializer.Serialize(environment), status);
        cmd.Parameters[3].NpgsqlDbType = NpgsqlDbType.Jsonb;
        return (long)cmd.ExecuteScalar()!;
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

    /// <summary>Every metric row of a run.</summary>
    public IReadOnlyDictionary<(int Step, string Name), double> Metrics(long runId)
    {
        using var c = Open();
        using var reader = Command(c, "SELECT step, name, value FROM lineage.metrics WHERE run_id = $1", runId).ExecuteReader();
        var rows = new Dictionary<(int, string), double>();
        while (reader.Read()) rows[(reader.GetInt32(0), reader.GetString(1))] = reader.GetDouble(2);
        return rows;
    }

    /// <summary>
    /// Every metric series of a run with at most about <paramref name="maxPoints"/> points each, for
    /// charts: a series longer than that keeps every k-th step (k = ceil(n / maxPoints)) and always
    /// its first and last, so a long run's chart costs the same as a short one's.
    /// </summary>
    public IReadOnlyDictionary<string, IReadOnlyList<(int Step, double Value)>> MetricSeries(long runId, int maxPoints)
    {
        using var c = Open();
        using var reader = Command(c, """
            SELECT name, step, value FROM (
                SELECT name, step, value, row_number() OVER w AS i, count(*) OVER (PARTITION BY name) AS n
                FROM lineage.metrics WHERE run_id = $1 WINDOW w AS (PARTITION BY name ORDER BY step)) m
            WHERE n <= $2 OR i = 1 OR i = n OR (i - 1) % ceil(n::float8 / $2)::bigint = 0
            ORDER BY name, step
            """, runId, Math.Max(2, maxPoints)).ExecuteReader();
        var series = new Dictionary<string, IReadOnlyList<(int, double)>>(StringComparer.Ordinal);
        while (reader.Read())
        {
            var name = reader.GetString(0);
            if (!series.TryGetValue(name, out var points)) series[name] = points = new List<(int, double)>();
            ((List<(int, double)>)points).Add((reader.GetInt32(1), reader.GetDouble(2)));
        }
        return series;
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

    /// <summary>Appends metric rows with one binary COPY; a rerun of the same step overwrites it.</summary>
    public void AppendMetrics(long runId, IReadOnlyCollection<(int Step, string Name, double Value)> rows)
    {
        if (rows.Count == 0) return;
        using var c = Open();
        using var tx = c.BeginTransaction();
        new NpgsqlCommand("CREATE TEMP TABLE incoming (step integer, name text, value double precision) ON COMMIT DROP", c, tx).ExecuteNonQuery();
        using (var copy = c.BeginBinaryImport("COPY incoming (step, name, value) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var (step, name, value) in rows)
            {
                copy.StartRow();
                copy.Write(step, NpgsqlDbType.Integer);
                copy.Write(name, NpgsqlDbType.Text);
                copy.Write(value, NpgsqlDbType.Double);
            }
            copy.Complete();
        }
        var merge = new NpgsqlCommand("""
            INSERT INTO lineage.metrics (run_id, step, name, value) SELECT $1, step, name, value FROM incoming
            ON CONFLICT (run_id, step, name) DO UPDATE SET value = EXCLUDED.value
            """, c, tx);
        merge.Parameters.Add(new NpgsqlParameter { Value = runId });
        merge.ExecuteNonQuery();
        tx.Commit();
    }

    /// <summary>
    /// Ends the run (once) and every stage not yet finished with the given status; a failure says
    /// whether the input was at fault (bad-input) or not (error).
    /// </summary>
    public void FinishRun(long runId, string status, string? error = null, bool badInput = false)
    {
        using var c = Open();
        using var tx = c.BeginTransaction();
        var run = Command(c, "UPDATE lineage.runs SET status = $2, finished_at = now(), error = $3, failure = $4 WHERE id = $1 AND finished_at IS NULL",
            runId, status, error, status == "failed" ? badInput ? "bad-input" : "error" : null);
        run.Transaction = tx;
        run.ExecuteNonQuery();
        var stages = Command(c, "UPDATE lineage.stages SET status = $2, finished_at = now() WHERE run_id = $1 AND status IN ('pending', 'queued', 'running')", runId, status);
        stages.Transaction = tx;
        stages.ExecuteNonQuery();
        tx.Commit();
    }

    public IReadOnlyList<RunSummary> Runs(int limit = 50) => RunQuery("ORDER BY r.id DESC LIMIT $1", limit);

    public RunSummary? Run(long id) => RunQuery("WHERE r.id = $1", id).SingleOrDefault();

    /// <summary>The newest succeeded run of the recipe with this name, if any.</summary>
    public RunSummary? LatestSucceeded(string recipeName) =>
        RunQuery("WHERE rc.name = $1 AND r.status = 'succeeded' ORDER BY r.id DESC LIMIT 1", recipeName).SingleOrDefault();

    private List<RunSummary> RunQuery(string tail, object value)
    {
        using var c = Open();
        using var reader = Command(c, $"""
            SELECT r.id, rc.name, r.status, r.created_at, r.finished_at, coalesce((SELECT max(step) FROM lineage.metrics m WHERE m.run_id = r.id), 0),
                r.error, r.failure
            FROM lineage.runs r JOIN lineage.recipes rc ON rc.id = r.recipe_id {tail}
            """, value).ExecuteReader();
        var runs = new List<RunSummary>();
        while (reader.Read())
            runs.Add(new RunSummary(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetDateTime(3),
                reader.IsDBNull(4) ? null : reader.GetDateTime(4), reader.GetInt32(5),
                reader.IsDBNull(6) ? null : reader.GetString(6), reader.IsDBNull(7) ? null : reader.GetString(7)));
        return runs;
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

    /// <summary>Last value, minimum and maximum of every metric of a run.</summary>
    public IReadOnlyList<(string Name, double Last, double Min, double Max, int Count)> MetricSummary(long runId)
    {
        using var c = Open();
        using var reader = Command(c, """
            SELECT name, (array_agg(value ORDER BY step DESC))[1], min(value), max(value), count(*)::int
            FROM lineage.metrics WHERE run_id = $1 GROUP BY name ORDER BY name
            """, runId).ExecuteReader();
        var result = new List<(string, double, double, double, int)>();
        while (reader.Read()) result.Add((reader.GetString(0), reader.GetDouble(1), reader.GetDouble(2), reader.GetDouble(3), reader.GetInt32(4)));
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

    private IReadOnlyList<long> RunIds(string sql, params object[] values)
    {
        using var c = Open();
        using var reader = Command(c, sql, values).ExecuteReader();
        var ids = new List<long>();
        while (reader.Read()) ids.Add(reader.GetInt64(0));
        return ids;
    }

    /// <summary>Marks a stage running (creating it if new); null when it already succeeded, e.g. a teacher cache a job built earlier.</summary>
    public long? StartStage(long runId, string kind, string name)
    {
        using var c = Open();
        return (long?)Command(c, """
            INSERT INTO lineage.stages (run_id, kind, name, status, started_at) VALUES ($1, $2, $3, 'running', now())
            ON CONFLICT (run_id, kind, name) DO UPDATE SET status = 'running', started_at = coalesce(lineage.stages.started_at, now()), finished_at = NULL
            WHERE lineage.stages.status <> 'succeeded' RETURNING id
            """, runId, kind, name).ExecuteScalar();
    }

    public void FinishStage(long stageId, string status)
    {
        using var c = Open();
        Command(c, "UPDATE lineage.stages SET status = $2, finished_at = now() WHERE id = $1", stageId, status).ExecuteNonQuery();
    }

    /// <summary>A run's stages in creation order, with timing, how often each was executed and by which worker.</summary>
    public IReadOnlyList<StageRecord> Stages(long runId)
    {
        using var c = Open();
        using var reader = Command(c, "SELECT kind, name, status, started_at, finished_at, attempts, worker FROM lineage.stages WHERE run_id = $1 ORDER BY id", runId).ExecuteReader();
        var result = new List<StageRecord>();
        while (reader.Read())
            result.Add(new StageRecord(reader.GetString(0), reader.GetString(1), reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetDateTime(3), reader.IsDBNull(4) ? null : reader.GetDateTime(4),
                reader.GetInt32(5), reader.IsDBNull(6) ? null : reader.GetString(6)));
        return result;
    }
}
