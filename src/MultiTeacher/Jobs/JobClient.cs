using Hangfire;
using Hangfire.PostgreSql;
using MultiTeacher.Lineage;
using MultiTeacher.Recipes;
using MultiTeacher.Training;

namespace MultiTeacher.Jobs;

/// <summary>Submits recipes as runs of Hangfire jobs, and cancels them.</summary>
public sealed class JobClient(string connectionString, PostgreSqlStorage storage)
{
    private readonly JobLedger _ledger = new(connectionString);
    private readonly LineageStore _store = new(connectionString);
    private readonly BackgroundJobClient _client = new(storage);

    /// <summary>
    /// Records the run (resolved recipe, environment, hashed inputs) as queued, creates its stages and
    /// enqueues what can start now: a cache job per teacher (training follows when all exist), or training.
    /// </summary>
    public long Submit(Recipe recipe, string queue, bool resume = false)
    {
        QueueNames.Check(queue);
        InputPreflight.Check(recipe);
        var runId = RunRecorder.Begin(_store, recipe, "queued").RunId;
        var caching = recipe.Train.TeacherMode == "cached" && recipe.Teachers.Count > 0;
        var stages = recipe.Teachers.Where(_ => caching).Select(t => (JobLedger.CacheTeacher, t.Name, "queued"))
            .Append((JobLedger.Train, DistillationRecipe.TrainStage, caching ? "pending" : "queued")).ToList();
        _ledger.Queue(runId, queue, resume, stages);
        try
        {
            if (caching)
                foreach (var t in recipe.Teachers)
                    _ledger.AttachJob(runId, JobLedger.CacheTeacher, t.Name, _client.Enqueue<StageJobs>(queue, j => j.CacheTeacher(runId, t.Name, null, CancellationToken.None)));
            else
                _ledger.AttachJob(runId, JobLedger.Train, DistillationRecipe.TrainStage, _client.Enqueue<StageJobs>(queue, j => j.Train(runId, null, CancellationToken.None)));
        }
        catch (Exception e)
        {
            _store.FinishRun(runId, "failed", $"could not enqueue: {e.Message}");
            throw;
        }
        return runId;
    }

    /// <summary>
    /// Flags the run and deletes its waiting jobs. A run with nothing running ends at once; a running
    /// stage sees the flag after its current training step, checkpoints and records the cancellation.
    /// </summary>
    public void Cancel(long runId)
    {
        foreach (var job in _ledger.RequestCancel(runId)) _client.Delete(job);
        if (!_store.Stages(runId).Any(s => s.Status == "running"))
            _store.FinishRun(runId, "cancelled", "cancelled before any stage ran");
    }
}
