using Hangfire;
using Hangfire.PostgreSql;
using MultiTeacher.Cache;
using MultiTeacher.Data;
using MultiTeacher.Lineage;
using MultiTeacher.Recipes;
using MultiTeacher.Runs;
using MultiTeacher.Teachers;
using MultiTeacher.Tokenization;
using MultiTeacher.Training;

namespace MultiTeacher.Jobs;

/// <summary>Submits recipes as runs of Hangfire jobs, and cancels them.</summary>
public sealed class JobClient(string connectionString, PostgreSqlStorage storage)
{
    private readonly LineageStore _store = new(connectionString);
    private readonly BackgroundJobClient _client = new(storage);

    /// <summary>
    /// Records the run (resolved recipe, environment, hashed inputs) as queued, creates its stages and
    /// enqueues what can start now: a cache job per teacher, or per shard of each teacher's cache (training follows when all exist), or training.
    /// <paramref name="ownedHere"/>: the queue is private to this process, so the run fails if this process dies.
    /// A sharded cache's shard texts are written under the recipe's cache_root, else <paramref name="cacheRoot"/>
    /// (the workers' root), else the default root, where the shard jobs look for them.
    /// </summary>
    public long Submit(Recipe recipe, string queue, bool resume = false, bool ownedHere = false, string? cacheRoot = null)
    {
        QueueNames.Check(queue);
        InputPreflight.Check(recipe);
        var runId = RunRecorder.Begin(_store, recipe, RunStatus.Queued).RunId;
        var caching = recipe.Train.TeacherMode == TeacherMode.Cached && recipe.Teachers.Count > 0;
        int shards;
        try
        {
            shards = caching && recipe.Train.CacheShardTokens > 0 ? ShardTextsFor(runId, recipe, recipe.CacheRoot ?? cacheRoot ?? CacheDirectories.Root()) : 1;
        }
        catch (Exception e)
        {
            _store.FinishRun(runId, RunStatus.Failed, $"could not cut the training data into shards: {e.Message}", badInput: BadInputException.Is(e));
            throw;
        }
        var caches = recipe.Teachers.Where(_ => caching).SelectMany(t => Enumerable.Range(0, shards).Select(s => (Teacher: t.Name, Shard: s))).ToList();
        var stages = caches.Select(c => (StageKind.CacheTeacher, CacheStages.Name(c.Teacher, c.Shard, shards), StageStatus.Queued))
            .Append((StageKind.Train, DistillationRecipe.TrainStage, caching ? StageStatus.Pending : StageStatus.Queued)).ToList();
        _store.QueueRun(runId, queue, resume, stages, ownedHere ? ProcessIdentity.Current : null);
        try
        {
            // One job per shard: any worker on the queue takes any shard, and a failed one is retried alone.
            foreach (var (teacher, shard) in caches)
                _store.AttachJob(runId, StageKind.CacheTeacher, CacheStages.Name(teacher, shard, shards), shards == 1
                    ? _client.Enqueue<StageJobs>(queue, j => j.CacheTeacher(runId, teacher, null, CancellationToken.None))
                    : _client.Enqueue<StageJobs>(queue, j => j.CacheTeacherShard(runId, teacher, shard, null, CancellationToken.None)));
            if (!caching)
                _store.AttachJob(runId, StageKind.Train, DistillationRecipe.TrainStage, _client.Enqueue<StageJobs>(queue, j => j.Train(runId, null, CancellationToken.None)));
        }
        catch (Exception e)
        {
            _store.FinishRun(runId, RunStatus.Failed, $"could not enqueue: {e.Message}");
            throw;
        }
        return runId;
    }

    /// <summary>
    /// Cuts the training data into samples, as every shard job would, and writes each shard's texts
    /// for the jobs to read; the number of shards. The texts are only a shortcut: a root the
    /// submitter cannot write leaves the jobs to tokenize the data themselves.
    /// </summary>
    private int ShardTextsFor(long runId, Recipe recipe, string root)
    {
        var student = HfTokenizer.FromDirectory(recipe.Student.TokenizerDirectory);
        var samples = TrainingSamples.ForRecipe(recipe.Data, student);
        var plan = TeacherCaches.ShardsOf(recipe, samples);
        if (plan.Count == 1) return 1;
        // The data hash as the jobs will read it: from the run's resolved recipe.
        RecipeLoader.LoadResolved(_store.Submission(runId)!.ResolvedYaml, out var hashes);
        if (!hashes.TryGetValue("data.train", out var dataHash)) return plan.Count;
        try
        {
            ShardTexts.WriteAll(root, dataHash, student.ContentHash, recipe.Data, recipe.Train.CacheShardTokens, plan, [.. samples.Samples.Select(s => s.Text)]);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return plan.Count;
    }

    /// <summary>
    /// Records a pipeline as one queued run (its resolved YAML with the hashes of every external
    /// input) with a stage row per stage, and enqueues the stages that read no other stage's output;
    /// each later stage is queued by the completion of the last stage it reads (<see cref="JobLedger.CompletePipelineStage"/>).
    /// </summary>
    public long Submit(Pipelines.Pipeline pipeline, string queue, bool ownedHere = false)
    {
        QueueNames.Check(queue);
        var resolved = pipeline.Resolve();
        var runId = _store.StartRun(_store.RecordRecipe(pipeline.Name, resolved.ToYaml()), pipeline.Settings.Seed, RunEnvironment.Current("auto", false), RunStatus.Queued);
        RunRecorder.Attach(_store, runId, null).Used("recipe", pipeline.Settings.Source, "recipe");
        var stages = pipeline.Order.Select(s => (Kind: Pipelines.Pipeline.StageKindOf(pipeline.Stage(s).Kind), Name: s, Ready: pipeline.Dependencies[s].Count == 0)).ToList();
        _store.QueueRun(runId, queue, false, stages.Select(s => (s.Kind, s.Name, s.Ready ? StageStatus.Queued : StageStatus.Pending)), ownedHere ? ProcessIdentity.Current : null);
        try
        {
            foreach (var (kind, name, _) in stages.Where(s => s.Ready))
                _store.AttachJob(runId, kind, name, _client.Enqueue<StageJobs>(queue, j => j.PipelineStage(runId, kind, name, null, CancellationToken.None)));
        }
        catch (Exception e)
        {
            _store.FinishRun(runId, RunStatus.Failed, $"could not enqueue: {e.Message}");
            throw;
        }
        return runId;
    }

    /// <summary>
    /// Flags the run and deletes its waiting jobs. Whether the run ends at once (no stage held by a job)
    /// or when its running stage sees the flag (after its current training step, checkpointed) is
    /// decided under the run's row lock before any job is deleted, so the two cannot both happen.
    /// </summary>
    public void Cancel(long runId)
    {
        foreach (var job in _store.RequestCancel(runId).Jobs) _client.Delete(job);
    }
}
