using MultiTeacher.Lineage;
using MultiTeacher.Runs;
using Npgsql;

namespace MultiTeacher.Jobs;

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
/// The transactions of job scheduling: a job claiming its stage, giving it back for a retry, and the
/// fan-in that queues training once every teacher cache (every shard of each) exists. Each holds the run's row lock (as a
/// cancel request does), so concurrent workers and cancellations agree. Everything else about a run's
/// lifecycle is <see cref="LineageStore"/>'s.
/// </summary>
public sealed class JobLedger(string connectionString)
{
    private static readonly string Running = Spelling.Of(StageStatus.Running), Queued = Spelling.Of(StageStatus.Queued),
        Succeeded = Spelling.Of(StageStatus.Succeeded), Pending = Spelling.Of(StageStatus.Pending);

    /// <summary>Locks the run's row for the transaction; true when a cancel was requested.</summary>
    private static bool LockRun(NpgsqlConnection c, NpgsqlTransaction tx, long runId) =>
        (bool?)Sql.Command(c, tx, "SELECT cancel_requested FROM lineage.runs WHERE id = $1 FOR UPDATE", runId).ExecuteScalar()
            ?? throw new InvalidDataException($"run {runId} does not exist");

    /// <summary>Takes a stage for a job: only a queued stage, or a running one this same job already owned, is taken.</summary>
    public StageClaim Claim(long runId, StageKind kind, string name, string jobId, ProcessIdentity worker)
    {
        using var c = Sql.Open(connectionString);
        using var tx = c.BeginTransaction();
        var cancelled = LockRun(c, tx, runId);
        StageStatus status;
        string? owner;
        using (var reader = Sql.Command(c, tx, "SELECT status, hangfire_job FROM lineage.stages WHERE run_id = $1 AND kind = $2 AND name = $3",
                   runId, Spelling.Of(kind), name).ExecuteReader())
        {
            if (!reader.Read()) throw new InvalidDataException($"run {runId} has no stage {Spelling.Of(kind)} {name}");
            (status, owner) = (Spelling.Parse<StageStatus>(reader.GetString(0)), reader.IsDBNull(1) ? null : reader.GetString(1));
        }
        var claim = (status, cancelled) switch
        {
            (StageStatus.Succeeded, _) => StageClaim.AlreadyDone,
            (_, true) => StageClaim.Cancelled,
            (StageStatus.Queued, _) => StageClaim.Claimed,
            // Running: its worker died. Cancelled without a request: its worker was shut down mid-stage (databases written by older versions).
            (StageStatus.Running or StageStatus.Cancelled, _) when owner == jobId => StageClaim.Reclaimed,
            _ => StageClaim.NotOurs,
        };
        if (claim is StageClaim.Claimed or StageClaim.Reclaimed)
        {
            Sql.Command(c, tx, """
                UPDATE lineage.stages SET status = $6, hangfire_job = $4, worker = $5, attempts = attempts + 1,
                    started_at = coalesce(started_at, now()), finished_at = NULL, error = NULL, owner_host = $7, owner_pid = $8, owner_start = $9
                WHERE run_id = $1 AND kind = $2 AND name = $3
                """, runId, Spelling.Of(kind), name, jobId, worker.ToString(), Running, worker.Host, worker.Pid, worker.StartTicks).ExecuteNonQuery();
            Sql.Command(c, tx, "UPDATE lineage.runs SET status = $2, started_at = coalesce(started_at, now()) WHERE id = $1 AND status = $3",
                runId, Spelling.Of(RunStatus.Running), Spelling.Of(RunStatus.Queued)).ExecuteNonQuery();
        }
        tx.Commit();
        return claim;
    }

    /// <summary>
    /// Gives a failed stage back to the queue for its job's retry; when a cancel was requested meanwhile,
    /// no retry will come (its job was deleted), so the run ends cancelled instead. True when requeued.
    /// </summary>
    public bool Release(long runId, StageKind kind, string name, string error)
    {
        using var c = Sql.Open(connectionString);
        using var tx = c.BeginTransaction();
        var cancelled = LockRun(c, tx, runId);
        if (cancelled) LineageStore.FinishRun(c, tx, runId, RunStatus.Cancelled, $"cancelled while {Spelling.Of(kind)} {name} waited for a retry ({error})");
        else
            Sql.Command(c, tx, "UPDATE lineage.stages SET status = $4, finished_at = now(), error = $5 WHERE run_id = $1 AND kind = $2 AND name = $3",
                runId, Spelling.Of(kind), name, Queued, error).ExecuteNonQuery();
        tx.Commit();
        return !cancelled;
    }

    /// <summary>
    /// Marks a cache-teacher stage done and, in the same transaction, queues the train stage when no
    /// other teacher cache is still missing. True when the caller must enqueue the train job (also
    /// when an earlier completion queued it but died before enqueueing).
    /// </summary>
    public bool CompleteCacheStage(long runId, string name)
    {
        using var c = Sql.Open(connectionString);
        using var tx = c.BeginTransaction();
        var cancelled = LockRun(c, tx, runId);
        var cache = Spelling.Of(StageKind.CacheTeacher);
        Sql.Command(c, tx, "UPDATE lineage.stages SET status = $4, finished_at = now() WHERE run_id = $1 AND kind = $2 AND name = $3",
            runId, cache, name, Succeeded).ExecuteNonQuery();
        var ready = !cancelled && (long)Sql.Command(c, tx, "SELECT count(*) FROM lineage.stages WHERE run_id = $1 AND kind = $2 AND status <> $3",
            runId, cache, Succeeded).ExecuteScalar()! == 0;
        var queued = ready && Sql.Command(c, tx, """
            UPDATE lineage.stages SET status = $3 WHERE run_id = $1 AND kind = $2
              AND (status = $4 OR status = $3 AND hangfire_job IS NULL)
            """, runId, Spelling.Of(StageKind.Train), Queued, Pending).ExecuteNonQuery() == 1;
        if (cancelled) LineageStore.FinishRun(c, tx, runId, RunStatus.Cancelled, "cancelled while teachers were being cached");
        tx.Commit();
        return queued;
    }

    /// <summary>
    /// Marks a pipeline stage done (with the lineage run that executed it) and, in the same
    /// transaction, queues every pending stage whose dependencies have all succeeded; ends the run
    /// succeeded when no stage is left. Returns the stages the caller must enqueue (also those an
    /// earlier completion queued but died before enqueueing).
    /// </summary>
    public IReadOnlyList<string> CompletePipelineStage(long runId, StageKind kind, string name, long? stageRun, IReadOnlyDictionary<string, IReadOnlyList<string>> dependencies)
    {
        using var c = Sql.Open(connectionString);
        using var tx = c.BeginTransaction();
        var cancelled = LockRun(c, tx, runId);
        Sql.Command(c, tx, "UPDATE lineage.stages SET status = $4, finished_at = now(), stage_run = coalesce($5::bigint, stage_run) WHERE run_id = $1 AND kind = $2 AND name = $3",
            runId, Spelling.Of(kind), name, Succeeded, stageRun).ExecuteNonQuery();
        var stages = new List<(string Name, string Status, bool HasJob)>();
        using (var reader = Sql.Command(c, tx, "SELECT name, status, hangfire_job IS NOT NULL FROM lineage.stages WHERE run_id = $1", runId).ExecuteReader())
            while (reader.Read()) stages.Add((reader.GetString(0), reader.GetString(1), reader.GetBoolean(2)));
        var succeeded = stages.Where(s => s.Status == Succeeded).Select(s => s.Name).ToHashSet();
        var ready = cancelled ? [] : stages.Where(s => s.Status == Pending && dependencies.GetValueOrDefault(s.Name, []).All(succeeded.Contains)
            || s.Status == Queued && !s.HasJob).Select(s => s.Name).ToList();
        foreach (var stage in ready)
            Sql.Command(c, tx, "UPDATE lineage.stages SET status = $3 WHERE run_id = $1 AND name = $2", runId, stage, Queued).ExecuteNonQuery();
        if (cancelled) LineageStore.FinishRun(c, tx, runId, RunStatus.Cancelled, $"cancelled after stage {name}");
        else if (succeeded.Count == stages.Count) LineageStore.FinishRun(c, tx, runId, RunStatus.Succeeded, null);
        tx.Commit();
        return ready;
    }
}
