using System.ComponentModel;
using Hangfire;
using Hangfire.Server;
using MultiTeacher.Lineage;
using MultiTeacher.Recipes;
using MultiTeacher.Runs;
using MultiTeacher.Runtime;
using MultiTeacher.Teachers;
using MultiTeacher.Training;

namespace MultiTeacher.Jobs;

/// <summary>A job failure that another attempt cannot fix (bad recipe, changed or corrupt input, diverged loss): not retried.</summary>
public sealed class PermanentJobFailure(Exception cause) : Exception(cause.Message, cause);

/// <summary>What the jobs of one worker process share: the lineage database, the Hangfire client, the log, the cache directory and the teachers kept loaded between cache jobs.</summary>
public sealed record JobContext(string ConnectionString, IBackgroundJobClient Client, TextWriter Log, string? CacheRoot = null, WarmTeachers? Warm = null);

/// <summary>
/// The Hangfire jobs of a run: one per teacher cache (parallel across workers), then training, which
/// also saves and evaluates. Each job claims its stage row first, so a duplicate delivery does
/// nothing; a job picked up again after its worker died reclaims its stage and resumes from the
/// run's last checkpoint. Transient failures are retried <see cref="Retries"/> times, permanent ones never.
/// </summary>
public sealed partial class StageJobs(JobContext context)
{
    public const int Retries = 2;
    private readonly JobLedger _ledger = new(context.ConnectionString);
    private readonly LineageStore _store = new(context.ConnectionString);

    [AutomaticRetry(Attempts = Retries, DelaysInSeconds = [2, 10], ExceptOn = [typeof(PermanentJobFailure)], OnAttemptsExceeded = AttemptsExceededAction.Fail)]
    [DisplayName("run {0}: cache teacher {1}")]
    public void CacheTeacher(long runId, string teacher, PerformContext? perform, CancellationToken cancel) =>
        BuildCache(runId, teacher, null, perform, cancel);

    /// <summary>One shard of a sharded teacher cache: its own stage, retried or reclaimed alone; training follows the last shard of the last teacher.</summary>
    [AutomaticRetry(Attempts = Retries, DelaysInSeconds = [2, 10], ExceptOn = [typeof(PermanentJobFailure)], OnAttemptsExceeded = AttemptsExceededAction.Fail)]
    [DisplayName("run {0}: cache teacher {1}, shard {2}")]
    public void CacheTeacherShard(long runId, string teacher, int shard, PerformContext? perform, CancellationToken cancel) =>
        BuildCache(runId, teacher, shard, perform, cancel);

    private void BuildCache(long runId, string teacher, int? shard, PerformContext? perform, CancellationToken cancel)
    {
        var stage = shard is { } s ? CacheStages.Shard(teacher, s) : teacher;
        var clock = new PhaseClock();
        var done = Execute(runId, StageKind.CacheTeacher, stage, perform, cancel, (recipe, hashes, log, _) =>
        {
            if (recipe.Teachers.All(t => t.Name != teacher)) throw new InvalidDataException($"run {runId}'s recipe has no teacher '{teacher}'");
            TeacherCaches.EnsureForRecipe(recipe, DistillationRecipe.DeviceOf(recipe.Device), new TeacherHashes(hashes), CacheRootFor(recipe), log, t => t.Name == teacher, shard,
                clock, context.Warm, hashes.GetValueOrDefault("data.train"));
            log.WriteLine(clock.ToString());
        }, clock);
        if (!done) return;
        if (Transient.Retry(() => _ledger.CompleteCacheStage(runId, stage), TimeSpan.FromMinutes(5), context.Log))
            EnqueueTrain(runId);
    }

    [AutomaticRetry(Attempts = Retries, DelaysInSeconds = [2, 10], ExceptOn = [typeof(PermanentJobFailure)], OnAttemptsExceeded = AttemptsExceededAction.Fail)]
    [DisplayName("run {0}: train")]
    public void Train(long runId, PerformContext? perform, CancellationToken cancel)
    {
        _ = Execute(runId, StageKind.Train, DistillationRecipe.TrainStage, perform, cancel, (recipe, hashes, log, claim) =>
        {
            var recorder = RunRecorder.Attach(_store, runId, log);
            var resumeFrom = claim == StageClaim.Reclaimed ? recorder.LatestCheckpoint() : null;
            var resume = resumeFrom is null && _store.Submission(runId)!.Resume;
            if (resumeFrom is not null) log.WriteLine($"run {runId}: continuing from {resumeFrom}");
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            using var training = new DistillationRecipe(recipe, log, CacheRootFor(recipe), recorder, hashes);
            training.Setup();
            // The worker's facts (threads, device, commit) are what the results depend on, not the submitter's.
            Transient.Retry(() => _store.SetEnvironment(runId, RunEnvironment.Current(recipe)), TimeSpan.FromMinutes(5), log);
            try
            {
                var result = training.Train(m =>
                {
                    recorder.OnStep(m);
                    if (m.Step % recipe.Train.LogEvery == 0 || m.Step == recipe.Train.Steps) log.WriteLine(StepLine.Format(m, recipe.Train.Steps));
                    // One indexed lookup per step: a cancel request stops training before the next step.
                    if (CancelRequested(runId)) stop.Cancel();
                }, resume, stop.Token, resumeFrom);
                recorder.Succeeded(result);
            }
            finally { recorder.Flush(); }
        });
    }

    private string CacheRoot => context.CacheRoot ?? Cache.CacheDirectories.Root();

    /// <summary>The recipe's shared cache root when it names one (every worker of the run reads and writes there), else the worker's.</summary>
    private string CacheRootFor(Recipe recipe) => recipe.CacheRoot ?? CacheRoot;

    private bool CancelRequested(long runId)
    {
        try { return _store.CancelRequested(runId); }
        catch (Exception e) when (Transient.IsTransient(e)) { return false; }
    }

    private void EnqueueTrain(long runId)
    {
        var queue = _store.Submission(runId)!.Queue ?? QueueNames.Default();
        var job = context.Client.Enqueue<StageJobs>(queue, j => j.Train(runId, null, CancellationToken.None));
        _store.AttachJob(runId, StageKind.Train, DistillationRecipe.TrainStage, job);
    }

    /// <summary>Claims the stage and runs its body on the run's resolved recipe; true when the stage is done (now or earlier).</summary>
    /// <param name="clock">Times the input check.</param>
    private bool Execute(long runId, StageKind kind, string name, PerformContext? perform, CancellationToken cancel, Action<Recipe, IReadOnlyDictionary<string, string>, TextWriter, StageClaim> body,
        PhaseClock? clock = null) =>
        Claimed(runId, kind, name, perform, cancel, (run, log, claim) =>
        {
            var recipe = RecipeLoader.LoadResolved(run.ResolvedYaml, out var hashes);
            // A teacher cache reads the data, the student's tokenizer (its own or its init's) and its one teacher; training reads everything.
            (clock ?? new PhaseClock()).Time(CachePhase.Inputs, () => InputCheck.Verify(recipe, hashes,
                kind == StageKind.CacheTeacher ? key => key is "data.train" or "student.tokenizer" or "student.init" || key == TeacherHashes.InputKey(CacheStages.TeacherOf(name)) : null,
                context.Warm?.Hashes));
            body(recipe with { Device = QueueNames.DeviceFor(perform?.BackgroundJob.Job.Queue, recipe.Device) }, hashes, log, claim);
        });

    /// <summary>Claims the stage and runs its body; true when the stage is done (now or earlier). Failures end the run or go back for a retry.</summary>
    private bool Claimed(long runId, StageKind kind, string name, PerformContext? perform, CancellationToken cancel, Action<SubmittedRun, TextWriter, StageClaim> body)
    {
        var log = new PrefixedWriter(context.Log, $"[run {runId} {Spelling.Of(kind)} {name}] ");
        // Training and pipeline stages load what they need themselves: teachers kept for cache jobs would only hold memory.
        if (kind != StageKind.CacheTeacher) context.Warm?.Unload();
        var run = _store.Submission(runId) ?? throw new PermanentJobFailure(new InvalidDataException($"run {runId} does not exist"));
        var jobId = perform?.BackgroundJob.Id ?? $"inline-{Guid.NewGuid():N}";
        var claim = _ledger.Claim(runId, kind, name, jobId, ProcessIdentity.Current);
        if (claim is StageClaim.AlreadyDone or StageClaim.NotOurs or StageClaim.Cancelled)
        {
            log.WriteLine(claim switch
            {
                StageClaim.AlreadyDone => "already done",
                StageClaim.Cancelled => "run was cancelled; not started",
                _ => "owned by another job; skipped",
            });
            if (claim == StageClaim.Cancelled) _store.FinishRun(runId, RunStatus.Cancelled, "cancelled before it started");
            return claim == StageClaim.AlreadyDone;
        }
        try
        {
            body(run, log, claim);
            return true;
        }
        catch (OperationCanceledException e) when (_store.CancelRequested(runId))
        {
            log.WriteLine($"cancelled: {e.Message}");
            _store.FinishRun(runId, RunStatus.Cancelled, e.Message);
            return false;
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            // The worker is shutting down: the stage stays ours and Hangfire hands the job out again.
            log.WriteLine("worker stopping; the stage goes back to the queue");
            throw;
        }
        catch (Exception e)
        {
            var permanent = IsPermanent(e);
            var retry = perform?.GetJobParameter<int>("RetryCount") ?? Retries;
            log.WriteLine($"failed ({(permanent ? "not retried" : $"attempt {retry + 1} of {Retries + 1}")}): {FailureText.Of(e)}");
            if (permanent || retry >= Retries)
            {
                Transient.Retry(() => _store.FinishRun(runId, RunStatus.Failed, $"{Spelling.Of(kind)} {name}: {FailureText.Of(e)}", badInput: BadInputException.Is(e)), TimeSpan.FromMinutes(5), log);
                if (permanent) throw new PermanentJobFailure(e);
            }
            else if (!Transient.Retry(() => _ledger.Release(runId, kind, name, FailureText.Of(e)), TimeSpan.FromMinutes(5), log))
                throw new PermanentJobFailure(e);   // cancelled meanwhile: no retry
            throw;
        }
    }

    /// <summary>Errors a retry cannot fix: bad input (<see cref="BadInputException.Is"/>), or training diverged.</summary>
    public static bool IsPermanent(Exception e) => BadInputException.Is(e) || e is TrainingDivergedException or PermanentJobFailure;
}
