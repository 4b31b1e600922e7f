using MultiTeacher.Jobs;
using MultiTeacher.Lineage;
using MultiTeacher.Runs;

namespace MultiTeacher.Tests.Lineage;

/// <summary>
/// Who ends a cancelled run, decided under the run's row lock: each case sets up the exact state of
/// the stage rows (as submission, claims and the training observer leave them) and then cancels.
/// </summary>
[Trait("Category", TestCategory.Database)]
[Collection("postgres")]
public sealed class RunLifecycleTests(PostgresFixture postgres)
{
    private (LineageStore Store, JobLedger Ledger, long RunId) SubmittedRun(params (StageKind Kind, string Name, StageStatus Status)[] stages)
    {
        var db = postgres.NewDatabase();
        Migrator.Apply(db);
        var store = new LineageStore(db);
        var runId = store.StartRun(store.RecordRecipe("lifecycle", "name: lifecycle"), 1, new Dictionary<string, string>(), RunStatus.Queued);
        store.QueueRun(runId, "q", resume: false, stages);
        foreach (var (kind, name, status) in stages.Where(s => s.Status == StageStatus.Queued))
            store.AttachJob(runId, kind, name, $"job-{Spelling.Of(kind)}-{name}");
        return (store, new JobLedger(db), runId);
    }

    [Fact]
    public void CancelOfARunNoJobHasClaimed_EndsItAtOnce_AndReturnsItsJobs()
    {
        var (store, _, runId) = SubmittedRun((StageKind.CacheTeacher, "a", StageStatus.Queued), (StageKind.Train, "student", StageStatus.Pending));
        var request = store.RequestCancel(runId);
        Assert.True(request.Ended);
        Assert.Equal(["job-cache-teacher-a"], request.Jobs);
        var run = store.Run(runId)!;
        Assert.Equal((RunStatus.Cancelled, "cancelled before any stage ran"), (run.Status, run.Error));
        Assert.All(store.Stages(runId), s => Assert.Equal(StageStatus.Cancelled, s.Status));
    }

    [Fact]
    public void CancelWhileTheTrainJobIsBetweenItsTrainAndSaveStages_LeavesTheRunToTheJob()
    {
        var (store, ledger, runId) = SubmittedRun((StageKind.Train, "student", StageStatus.Queued));
        Assert.Equal(StageClaim.Claimed, ledger.Claim(runId, StageKind.Train, "student", "job-train-student", ProcessIdentity.Current));
        // The training observer reports its stages as DistillationRecipe runs them: train ends, save has not begun.
        var recorder = RunRecorder.Attach(store, runId, null);
        recorder.Started(StageKind.Train, "student");
        recorder.Finished(StageKind.Train, "student", StageStatus.Succeeded);

        var request = store.RequestCancel(runId);
        Assert.False(request.Ended);
        Assert.Equal(["job-train-student"], request.Jobs);
        Assert.Equal(RunStatus.Running, store.Run(runId)!.Status);
        Assert.Equal(StageStatus.Running, store.Stages(runId).Single().Status);
        Assert.True(store.CancelRequested(runId));
    }

    [Fact]
    public void CancelBetweenTeacherCachesAndTraining_EndsTheRunAtOnce()
    {
        var (store, ledger, runId) = SubmittedRun((StageKind.CacheTeacher, "a", StageStatus.Queued), (StageKind.Train, "student", StageStatus.Pending));
        Assert.Equal(StageClaim.Claimed, ledger.Claim(runId, StageKind.CacheTeacher, "a", "job-cache-teacher-a", ProcessIdentity.Current));
        Assert.True(ledger.CompleteCacheStage(runId, "a"));

        Assert.True(store.RequestCancel(runId).Ended);
        Assert.Equal((RunStatus.Cancelled, "cancelled between stages"), (store.Run(runId)!.Status, store.Run(runId)!.Error));
        Assert.Equal(StageClaim.Cancelled, ledger.Claim(runId, StageKind.Train, "student", "job-train", ProcessIdentity.Current));
    }

    [Fact]
    public void AFailedStageGivenBackAfterACancel_EndsTheRunInsteadOfWaitingForARetry()
    {
        var (store, ledger, runId) = SubmittedRun((StageKind.Train, "student", StageStatus.Queued));
        ledger.Claim(runId, StageKind.Train, "student", "job-train-student", ProcessIdentity.Current);
        Assert.False(store.RequestCancel(runId).Ended);

        Assert.False(ledger.Release(runId, StageKind.Train, "student", "connection reset"));
        var run = store.Run(runId)!;
        Assert.Equal(RunStatus.Cancelled, run.Status);
        Assert.Contains("connection reset", run.Error);
    }

    [Fact]
    public void AFailedStageGivenBackWithoutACancel_IsQueuedForItsRetry()
    {
        var (store, ledger, runId) = SubmittedRun((StageKind.Train, "student", StageStatus.Queued));
        ledger.Claim(runId, StageKind.Train, "student", "job-train-student", ProcessIdentity.Current);
        Assert.True(ledger.Release(runId, StageKind.Train, "student", "connection reset"));
        Assert.Equal(StageStatus.Queued, store.Stages(runId).Single().Status);
        Assert.Equal(StageClaim.Claimed, ledger.Claim(runId, StageKind.Train, "student", "job-train-student", ProcessIdentity.Current));
        Assert.Equal(2, store.Stages(runId).Single().Attempts);
    }

    [Fact]
    public void CancelOfARunWhoseStageHolderIsGone_EndsItAtOnce()
    {
        var (store, ledger, runId) = SubmittedRun((StageKind.Train, "student", StageStatus.Queued));
        // This pid with another start time: the holder's pid was reused after it died.
        var gone = ProcessIdentity.Current with { StartTicks = ProcessIdentity.Current.StartTicks + 1 };
        ledger.Claim(runId, StageKind.Train, "student", "job-train-student", gone);

        Assert.True(store.RequestCancel(runId).Ended);
        var run = store.Run(runId)!;
        Assert.Equal(RunStatus.Cancelled, run.Status);
        Assert.Contains($"the process running it ({gone}) had ended", run.Error);
    }

    [Fact]
    public void RunsWhoseOwningProcessIsGone_AreFailed_AndRunsOfLiveOwnersAreNot()
    {
        var db = postgres.NewDatabase();
        Migrator.Apply(db);
        var store = new LineageStore(db);
        var recipe = store.RecordRecipe("owned", "name: owned");
        long Owned(ProcessIdentity owner)
        {
            var id = store.StartRun(recipe, 1, new Dictionary<string, string>(), RunStatus.Queued);
            store.QueueRun(id, "local", resume: false, [(StageKind.Train, "student", StageStatus.Queued)], owner);
            return id;
        }
        using var exited = System.Diagnostics.Process.Start("true")!;
        var owner = ProcessIdentity.Of(exited.Id);
        exited.WaitForExit();
        var abandoned = Owned(owner ?? ProcessIdentity.Current with { StartTicks = -1 });
        var live = Owned(ProcessIdentity.Current);
        var shared = store.StartRun(recipe, 1, new Dictionary<string, string>(), RunStatus.Queued);

        Assert.Equal([abandoned], store.FailAbandoned());
        Assert.Equal((RunStatus.Failed, RunFailure.Error), (store.Run(abandoned)!.Status, store.Run(abandoned)!.Failure));
        Assert.Contains("ended before the run did", store.Run(abandoned)!.Error);
        Assert.Equal(RunStatus.Queued, store.Run(live)!.Status);
        Assert.Equal(RunStatus.Queued, store.Run(shared)!.Status);
        Assert.Empty(store.FailAbandoned());
    }

    [Fact]
    public void AProcessIdentity_IsAliveWhileItsProcessRuns_AndUnknownOnAnotherHost()
    {
        using var sleeper = System.Diagnostics.Process.Start("sleep", "60")!;
        var identity = ProcessIdentity.Of(sleeper.Id)!;
        Assert.True(identity.IsAlive());
        Assert.Null((identity with { Host = "elsewhere" }).IsAlive());
        sleeper.Kill();
        sleeper.WaitForExit();
        Assert.False(identity.IsAlive());
    }
}
