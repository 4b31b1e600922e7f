using System.Text.Json;
using MultiTeacher.Runs;
using Npgsql;
using NpgsqlTypes;

namespace MultiTeacher.Lineage;

/// <summary>A run as `mt runs` lists it.</summary>
public sealed record RunSummary(long Id, string Recipe, RunStatus Status, DateTime CreatedAt, DateTime? FinishedAt, int Steps,
    string? Error = null, RunFailure? Failure = null);

/// <summary>A stage of a run with its timing.</summary>
public sealed record StageRecord(StageKind Kind, string Name, StageStatus Status, DateTime? StartedAt, DateTime? FinishedAt, int Attempts = 0, string? Worker = null);

/// <summary>A submitted run as its jobs read it: the resolved recipe, its queue, and whether it resumes or was cancelled.</summary>
public sealed record SubmittedRun(long Id, RunStatus Status, string ResolvedYaml, string? Queue, bool Resume, bool CancelRequested);

/// <summary>What a cancel request did: the Hangfire jobs to delete, and whether the run ended at once (no job held a stage).</summary>
public sealed record CancelRequest(IReadOnlyList<string> Jobs, bool Ended);

public sealed partial class LineageStore
{
    /// <summary>Opens a run; a queued run has no start time until a worker begins it.</summary>
    public long StartRun(long recipeId, long seed, IReadOnlyDictionary<string, string> environment, RunStatus status = RunStatus.Running)
    {
        using var c = Open();
        var cmd = Command(c, """
            INSERT INTO lineage.runs (recipe_id, status, seed, host, environment, started_at)
            VALUES ($1, $5, $2, $3, $4, CASE WHEN $6 THEN now() END) RETURNING id
            """, recipeId, seed, System.Net.Dns.GetHostName(), JsonSerializer.Serialize(environment), Spelling.Of(status), status == RunStatus.Running);
        cmd.Parameters[3].NpgsqlDbType = NpgsqlDbType.Jsonb;
        return (long)cmd.ExecuteScalar()!;
    }

    /// <summary>
    /// Marks a recorded run as queued on a queue and creates its stage rows. <paramref name="owner"/>
    /// is the one process that will execute it (a private queue), so the run fails when that process is gone.
    /// </summary>
    public void QueueRun(long runId, string queue, bool resume, IEnumerable<(StageKind Kind, string Name, StageStatus Status)> stages, ProcessIdentity? owner = null)
    {
        using var c = Open();
        using var tx = c.BeginTransaction();
        Sql.Command(c, tx, "UPDATE lineage.runs SET status = $4, queue = $2, resume = $3, owner_host = $5, owner_pid = $6, owner_start = $7 WHERE id = $1",
            runId, queue, resume, Spelling.Of(RunStatus.Queued), owner?.Host, owner?.Pid, owner?.StartTicks).ExecuteNonQuery();
        foreach (var (kind, name, status) in stages)
            Sql.Command(c, tx, "INSERT INTO lineage.stages (run_id, kind, name, status) VALUES ($1, $2, $3, $4)",
                runId, Spelling.Of(kind), name, Spelling.Of(status)).ExecuteNonQuery();
        tx.Commit();
    }

    /// <summary>The run with its resolved recipe, queue and flags; null when there is no such run.</summary>
    public SubmittedRun? Submission(long runId)
    {
        using var c = Open();
        using var reader = Command(c, """
            SELECT r.id, r.status, rc.resolved_yaml, r.queue, r.resume, r.cancel_requested
            FROM lineage.runs r JOIN lineage.recipes rc ON rc.id = r.recipe_id WHERE r.id = $1
            """, runId).ExecuteReader();
        return reader.Read()
            ? new SubmittedRun(reader.GetInt64(0), Spelling.Parse<RunStatus>(reader.GetString(1)), reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetBoolean(4), reader.GetBoolean(5))
            : null;
    }

    /// <summary>The resolved recipe (YAML, with input hashes) the run was recorded with; null when there is no such run.</summary>
    public string? ResolvedRecipe(long runId) => Submission(runId)?.ResolvedYaml;

    /// <summary>Records which Hangfire job carries a queued stage.</summary>
    public void AttachJob(long runId, StageKind kind, string name, string jobId)
    {
        using var c = Open();
        Command(c, "UPDATE lineage.stages SET hangfire_job = $4 WHERE run_id = $1 AND kind = $2 AND name = $3 AND hangfire_job IS NULL",
            runId, Spelling.Of(kind), name, jobId).ExecuteNonQuery();
    }

    public bool CancelRequested(long runId)
    {
        using var c = Open();
        return (bool?)Command(c, "SELECT cancel_requested FROM lineage.runs WHERE id = $1", runId).ExecuteScalar() ?? false;
    }

    /// <summary>
    /// Flags the run for cancellation and decides, under the run's row lock (which claims, fan-in and
    /// releases also take), who ends it: a live job holding a stage sees the flag and ends the run
    /// itself; with no stage held, or only by processes that are gone, the run ends here, cancelled.
    /// Returns the jobs of unfinished stages to delete.
    /// </summary>
    public CancelRequest RequestCancel(long runId)
    {
        using var c = Open();
        using var tx = c.BeginTransaction();
        ProcessIdentity? runOwner;
        bool finished;
        using (var run = Sql.Command(c, tx, "SELECT finished_at IS NOT NULL, owner_host, owner_pid, owner_start FROM lineage.runs WHERE id = $1 FOR UPDATE", runId).ExecuteReader())
        {
            if (!run.Read()) throw new ArgumentException($"run {runId} does not exist");
            (finished, runOwner) = (run.GetBoolean(0), Owner(run, 1));
        }
        Sql.Command(c, tx, "UPDATE lineage.runs SET cancel_requested = true WHERE id = $1", runId).ExecuteNonQuery();
        var jobs = new List<string>();
        var gone = new List<ProcessIdentity>();
        bool held = false, started = false;
        using (var reader = Sql.Command(c, tx, "SELECT hangfire_job, status, attempts, owner_host, owner_pid, owner_start FROM lineage.stages WHERE run_id = $1", runId).ExecuteReader())
            while (reader.Read())
            {
                started |= reader.GetInt32(2) > 0;
                if (reader.IsDBNull(0)) continue;
                var status = Spelling.Parse<StageStatus>(reader.GetString(1));
                if (status is StageStatus.Queued or StageStatus.Running) jobs.Add(reader.GetString(0));
                if (status != StageStatus.Running) continue;
                // A holder on another host cannot be checked from here: it is trusted to see the flag.
                if (Owner(reader, 3) is { } owner && owner.IsAlive() == false) gone.Add(owner);
                else held = true;
            }
        if (runOwner?.IsAlive() == false) (held, gone) = (false, [runOwner]);
        var ends = !finished && !held;
        if (ends)
            FinishRun(c, tx, runId, RunStatus.Cancelled, gone.Count > 0 ? $"cancelled; the process running it ({gone[0]}) had ended"
                : started ? "cancelled between stages" : "cancelled before any stage ran");
        tx.Commit();
        return new CancelRequest(jobs, ends);
    }

    /// <summary>
    /// Fails the unfinished runs whose owning process (see <see cref="QueueRun"/>) ran on this host and
    /// is gone, such as an `mt run` killed by SIGKILL; returns their ids. Runs on shared queues have no
    /// owner: a worker picks up a stage whose worker died.
    /// </summary>
    public IReadOnlyList<long> FailAbandoned()
    {
        using var c = Open();
        var owned = new List<(long Id, ProcessIdentity Owner)>();
        using (var reader = Command(c, "SELECT id, owner_host, owner_pid, owner_start FROM lineage.runs WHERE finished_at IS NULL AND owner_host = $1",
                   ProcessIdentity.Current.Host).ExecuteReader())
            while (reader.Read()) owned.Add((reader.GetInt64(0), Owner(reader, 1)!));
        var failed = new List<long>();
        foreach (var (id, owner) in owned.Where(o => o.Owner.IsAlive() == false))
        {
            using var tx = c.BeginTransaction();
            if ((bool)Sql.Command(c, tx, "SELECT finished_at IS NULL FROM lineage.runs WHERE id = $1 FOR UPDATE", id).ExecuteScalar()!)
            {
                FinishRun(c, tx, id, RunStatus.Failed, $"the mt process that ran it ({owner}) ended before the run did");
                failed.Add(id);
            }
            tx.Commit();
        }
        return failed;
    }

    private static ProcessIdentity? Owner(NpgsqlDataReader reader, int first) => reader.IsDBNull(first) ? null
        : new ProcessIdentity(reader.GetString(first), reader.GetInt32(first + 1), reader.GetInt64(first + 2));

    /// <summary>
    /// Ends the run (once) and every stage not yet finished with the given status; a failure says
    /// whether the input was at fault (bad-input) or not (error).
    /// </summary>
    public void FinishRun(long runId, RunStatus status, string? error = null, bool badInput = false)
    {
        using var c = Open();
        using var tx = c.BeginTransaction();
        FinishRun(c, tx, runId, status, error, badInput);
        tx.Commit();
    }

    /// <summary>Ends the run inside a transaction of the caller (one that holds the run's row lock, for instance).</summary>
    internal static void FinishRun(NpgsqlConnection c, NpgsqlTransaction tx, long runId, RunStatus status, string? error, bool badInput = false)
    {
        RunFailure? failure = status == RunStatus.Failed ? badInput ? RunFailure.BadInput : RunFailure.Error : null;
        Sql.Command(c, tx, "UPDATE lineage.runs SET status = $2, finished_at = now(), error = $3, failure = $4 WHERE id = $1 AND finished_at IS NULL",
            runId, Spelling.Of(status), error, failure is { } f ? Spelling.Of(f) : null).ExecuteNonQuery();
        Sql.Command(c, tx, "UPDATE lineage.stages SET status = $2, finished_at = now() WHERE run_id = $1 AND status = ANY($3)",
            runId, Spelling.Of(StageOf(status)), Unfinished).ExecuteNonQuery();
    }

    private static readonly string[] Unfinished = [Spelling.Of(StageStatus.Pending), Spelling.Of(StageStatus.Queued), Spelling.Of(StageStatus.Running)];

    private static StageStatus StageOf(RunStatus status) => status switch
    {
        RunStatus.Succeeded => StageStatus.Succeeded,
        RunStatus.Failed => StageStatus.Failed,
        RunStatus.Cancelled => StageStatus.Cancelled,
        _ => throw new ArgumentException($"a run ends succeeded, failed or cancelled, not {Spelling.Of(status)}"),
    };

    public IReadOnlyList<RunSummary> Runs(int limit = 50) => RunQuery("ORDER BY r.id DESC LIMIT $1", limit);

    public RunSummary? Run(long id) => RunQuery("WHERE r.id = $1", id).SingleOrDefault();

    /// <summary>The newest succeeded run of the recipe with this name, if any.</summary>
    public RunSummary? LatestSucceeded(string recipeName) =>
        RunQuery("WHERE rc.name = $1 AND r.status = $2 ORDER BY r.id DESC LIMIT 1", recipeName, Spelling.Of(RunStatus.Succeeded)).SingleOrDefault();

    private List<RunSummary> RunQuery(string tail, params object[] values)
    {
        using var c = Open();
        using var reader = Command(c, $"""
            SELECT r.id, rc.name, r.status, r.created_at, r.finished_at, coalesce((SELECT max(step) FROM lineage.metrics m WHERE m.run_id = r.id), 0),
                r.error, r.failure
            FROM lineage.runs r JOIN lineage.recipes rc ON rc.id = r.recipe_id {tail}
            """, values).ExecuteReader();
        var runs = new List<RunSummary>();
        while (reader.Read())
            runs.Add(new RunSummary(reader.GetInt64(0), reader.GetString(1), Spelling.Parse<RunStatus>(reader.GetString(2)), reader.GetDateTime(3),
                reader.IsDBNull(4) ? null : reader.GetDateTime(4), reader.GetInt32(5),
                reader.IsDBNull(6) ? null : reader.GetString(6), reader.IsDBNull(7) ? null : Spelling.Parse<RunFailure>(reader.GetString(7))));
        return runs;
    }

    /// <summary>
    /// Marks a stage running (creating it if new) and returns its id; null when it already succeeded
    /// (a teacher cache a job built earlier) or when a job holds it, since then the job's claim and the
    /// run's end decide its status.
    /// </summary>
    public long? StartStage(long runId, StageKind kind, string name)
    {
        using var c = Open();
        return (long?)Command(c, """
            INSERT INTO lineage.stages (run_id, kind, name, status, started_at) VALUES ($1, $2, $3, $4, now())
            ON CONFLICT (run_id, kind, name) DO UPDATE SET status = EXCLUDED.status, started_at = coalesce(lineage.stages.started_at, now()), finished_at = NULL
            WHERE lineage.stages.status <> $5 AND lineage.stages.hangfire_job IS NULL RETURNING id
            """, runId, Spelling.Of(kind), name, Spelling.Of(StageStatus.Running), Spelling.Of(StageStatus.Succeeded)).ExecuteScalar();
    }

    public void FinishStage(long stageId, StageStatus status)
    {
        using var c = Open();
        Command(c, "UPDATE lineage.stages SET status = $2, finished_at = now() WHERE id = $1", stageId, Spelling.Of(status)).ExecuteNonQuery();
    }

    /// <summary>A run's stages in creation order, with timing, how often each was executed and by which worker.</summary>
    public IReadOnlyList<StageRecord> Stages(long runId)
    {
        using var c = Open();
        using var reader = Command(c, "SELECT kind, name, status, started_at, finished_at, attempts, worker FROM lineage.stages WHERE run_id = $1 ORDER BY id", runId).ExecuteReader();
        var result = new List<StageRecord>();
        while (reader.Read())
            result.Add(new StageRecord(Spelling.Parse<StageKind>(reader.GetString(0)), reader.GetString(1), Spelling.Parse<StageStatus>(reader.GetString(2)),
                reader.IsDBNull(3) ? null : reader.GetDateTime(3), reader.IsDBNull(4) ? null : reader.GetDateTime(4),
                reader.GetInt32(5), reader.IsDBNull(6) ? null : reader.GetString(6)));
        return result;
    }
}
