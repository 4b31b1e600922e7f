using Npgsql;

namespace MultiTeacher.Jobs;

/// <summary>A submitted run as its jobs read it.</summary>
public sealed record SubmittedRun(long Id, string Status, string ResolvedYaml, string? Queue, bool Resume, bool CancelRequested);

/// <summary>What a job learns when it tries to take its stage.</summary>
public enum StageClaim
{
    /// <summary>The stage was waiting and is now this job's.</summary>
    Claimed,
    /// <summary>This job already owned the running stage (its worker died); it continues from the last checkpoint.</summary>
    Reclaimed,
    /// <summary>The stage finished earlier (a duplicate delivery); nothing to do.</summary>
    AlreadyDone,
    /// <summary>Another job owns the stage, or it failed or was cancelled; this job does nothing.</summary>
    NotOurs,
    /// <summary>The run was cancelled before the stage began.</summary>
    Cancelled,
}

/// <summary>
/// The transactional side of job scheduling in the lineage database: stage rows as claimable units
/// of work, the fan-in that queues training once every teacher cache exists, and cancellation flags.
/// Each decision is one transaction holding the run's row lock, so concurrent workers agree.
/// </summary>
public sealed class JobLedger(string connectionString)
{
    public const string CacheTeacher = "cache-teacher", Train = "train";

    private NpgsqlConnection Open()
    {
        var c = new NpgsqlConnection(connectionString);
        c.Open();
        return c;
    }

    private static NpgsqlCommand Command(NpgsqlConnection c, NpgsqlTransaction? tx, string sql, params object?[] values)
    {
        var command = new NpgsqlCommand(sql, c, tx);
        foreach (var v in values) command.Parameters.Add(new NpgsqlParameter { Value = v ?? DBNull.Value });
        return command;
    }

    /// <summary>Marks a recorded run as queued on a queue and creates its stage rows.</summary>
    public void Queue(long runId, string queue, bool resume, IEnumerable<(string Kind, string Name, string Status)> stages)
    {
        using var c = Open();
        using var tx = c.BeginTransaction();
        Command(c, tx, "UPDATE lineage.runs SET status = 'queued', queue = $2, resume = $3 WHERE id = $1", runId, queue, resume).ExecuteNonQuery();
        foreach (var (kind, name, status) in stages)
            Command(c, tx, "INSERT INTO lineage.stages (run_id, kind, name, status) VALUES ($1, $2, $3, $4)", runId, kind, name, status).ExecuteNonQuery();
        tx.Commit();
    }

    public SubmittedRun? Run(long runId)
    {
        using var c = Open();
        using var reader = Command(c, null, """
            SELECT r.id, r.status, rc.resolved_yaml, r.queue, r.resume, r.cancel_requested
            FROM lineage.runs r JOIN lineage.recipes rc ON rc.id = r.recipe_id WHERE r.id = $1
            """, runId).ExecuteReader();
        return reader.Read()
            ? new SubmittedRun(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetBoolean(4), reader.GetBoolean(5))
            : null;
    }

    /// <summary>Records which Hangfire job carries a queued stage.</summary>
    public void AttachJob(long runId, string kind, string name, string jobId)
    {
        using var c = Open();
        Command(c, null, "UPDATE lineage.stages SET hangfire_job = $4 WHERE run_id = $1 AND kind = $2 AND name = $3 AND hangfire_job IS NULL",
            runId, kind, name, jobId).ExecuteNonQuery();
    }

    /// <summary>Takes a stage for a job: only a queued stage, or a running one this same job already owned, is taken.</summary>
    public StageClaim Claim(long runId, string kind, string name, string jobId, string worker)
    {
        using var c = Open();
        using var tx = c.BeginTransaction();
        var cancelled = (bool?)Command(c, tx, "SELECT cancel_requested FROM lineage.runs WHERE id = $1 FOR UPDATE", runId).ExecuteScalar()
            ?? throw new InvalidDataException($"run {runId} does not exist");
        string status;
        string? owner;
        using (var reader = Command(c, tx, "SELECT status, hangfire_job FROM lineage.stages WHERE run_id = $1 AND kind = $2 AND name = $3", runId, kind, name).ExecuteReader())
        {
            if (!reader.Read()) throw new InvalidDataException($"run {runId} has no stage {kind} {name}");
            (status, owner) = (reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1));
        }
        var claim = (status, cancelled) switch
        {
            ("succeeded", _) => StageClaim.AlreadyDone,
            (_, true) => StageClaim.Cancelled,
            ("queued", _) => StageClaim.Claimed,
            // Running: its worker died. Cancelled without a request: its worker was shut down mid-stage.
            ("running" or "cancelled", _) when owner == jobId => StageClaim.Reclaimed,
            _ => StageClaim.NotOurs,
        };
        if (claim is StageClaim.Claimed or StageClaim.Reclaimed)
        {
            Command(c, tx, """
                UPDATE lineage.stages SET status = 'running', hangfire_job = $4, worker = $5, attempts = attempts + 1,
                    started_at = coalesce(started_at, now()), finished_at = NULL, error = NULL
                WHERE run_id = $1 AND kind = $2 AND name = $3
                """, runId, kind, name, jobId, worker).ExecuteNonQuery();
            Command(c, tx, "UPDATE lineage.runs SET status = 'running', started_at = coalesce(started_at, now()) WHERE id = $1 AND status = 'queued'", runId).ExecuteNonQuery();
        }
        tx.Commit();
        return claim;
    }

    /// <summary>
    /// Marks a cache-teacher stage done and, in the same transaction, queues the train stage when no
    /// other teacher cache is still missing. True when the caller must enqueue the train job (also
    /// when an earlier completion queued it but died before enqueueing).
    /// </summary>
    public bool CompleteCacheStage(long runId, string name)
    {
        using var c = Open();
        using var tx = c.BeginTransaction();
        var cancelled = (bool)Command(c, tx, "SELECT cancel_requested FROM lineage.runs WHERE id = $1 FOR UPDATE", runId).ExecuteScalar()!;
        Command(c, tx, "UPDATE lineage.stages SET status = 'succeeded', finished_at = now() WHERE run_id = $1 AND kind = $2 AND name = $3",
            runId, CacheTeacher, name).ExecuteNonQuery();
        var ready = !cancelled && (long)Command(c, tx, "SELECT count(*) FROM lineage.stages WHERE run_id = $1 AND kind = $2 AND status <> 'succeeded'", runId, CacheTeacher).ExecuteScalar()! == 0;
        var queued = ready && Command(c, tx, """
            UPDATE lineage.stages SET status = 'queued' WHERE run_id = $1 AND kind = $2
              AND (status = 'pending' OR status = 'queued' AND hangfire_job IS NULL)
            """, runId, Train).ExecuteNonQuery() == 1;
        tx.Commit();
        return queued;
    }

    public void FinishStage(long runId, string kind, string name, string status, string? error = null)
    {
        using var c = Open();
        Command(c, null, "UPDATE lineage.stages SET status = $4, finished_at = now(), error = $5 WHERE run_id = $1 AND kind = $2 AND name = $3",
            runId, kind, name, status, error).ExecuteNonQuery();
    }

    /// <summary>Flags the run for cancellation and returns the Hangfire jobs of its unfinished stages.</summary>
    public IReadOnlyList<string> RequestCancel(long runId)
    {
        using var c = Open();
        if (Command(c, null, "UPDATE lineage.runs SET cancel_requested = true WHERE id = $1", runId).ExecuteNonQuery() == 0)
            throw new ArgumentException($"run {runId} does not exist");
        using var reader = Command(c, null, "SELECT hangfire_job FROM lineage.stages WHERE run_id = $1 AND hangfire_job IS NOT NULL AND status IN ('queued', 'running')", runId).ExecuteReader();
        var jobs = new List<string>();
        while (reader.Read()) jobs.Add(reader.GetString(0));
        return jobs;
    }

    public bool CancelRequested(long runId)
    {
        using var c = Open();
        return (bool?)Command(c, null, "SELECT cancel_requested FROM lineage.runs WHERE id = $1", runId).ExecuteScalar() ?? false;
    }
}
