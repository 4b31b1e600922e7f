using System.ComponentModel;
using Hangfire;
using Hangfire.Server;
using MultiTeacher.Lineage;
using MultiTeacher.Pipelines;
using MultiTeacher.Runs;

namespace MultiTeacher.Jobs;

public sealed partial class StageJobs
{
    /// <summary>
    /// One stage of a pipeline run: claims the stage row, executes the stage as its own lineage run
    /// (<see cref="StageRunner"/>), then, in one transaction, marks it done and queues every stage
    /// whose inputs are now all made; the run succeeds with its last stage.
    /// </summary>
    [AutomaticRetry(Attempts = Retries, DelaysInSeconds = [2, 10], ExceptOn = [typeof(PermanentJobFailure)], OnAttemptsExceeded = AttemptsExceededAction.Fail)]
    [DisplayName("run {0}: {1} {2}")]
    public void PipelineStage(long runId, StageKind kind, string stage, PerformContext? perform, CancellationToken cancel)
    {
        Pipeline? pipeline = null;
        long? stageRun = null;
        var done = Claimed(runId, kind, stage, perform, cancel, (run, log, _) =>
        {
            pipeline = PipelineLoader.LoadResolved(run.ResolvedYaml);
            stageRun = new StageRunner(_store, log, CacheRoot).Run(pipeline, stage, cancel, () => CancelRequested(runId));
            Transient.Retry(() => { _store.Link(runId, _store.RecordArtifact(OutputKind(pipeline.Stage(stage).Kind), pipeline.OutputOf(stage)), "produced", ArtifactRoles.Stage(stage)); return 0; },
                TimeSpan.FromMinutes(5), log);
        });
        if (!done) return;
        pipeline ??= PipelineLoader.LoadResolved(_store.Submission(runId)!.ResolvedYaml);
        var ready = Transient.Retry(() => _ledger.CompletePipelineStage(runId, kind, stage, stageRun, pipeline.Dependencies), TimeSpan.FromMinutes(5), context.Log);
        foreach (var next in ready) EnqueuePipelineStage(runId, pipeline, next);
    }

    private static string OutputKind(PipelineStageKind kind) => kind switch
    {
        PipelineStageKind.Distill or PipelineStageKind.Finetune => "student",
        PipelineStageKind.Evaluate => "evaluation",
        _ => "model",
    };

    private void EnqueuePipelineStage(long runId, Pipeline pipeline, string stage)
    {
        var queue = _store.Submission(runId)!.Queue ?? QueueNames.Default();
        var kind = Pipeline.StageKindOf(pipeline.Stage(stage).Kind);
        _store.AttachJob(runId, kind, stage, context.Client.Enqueue<StageJobs>(queue, j => j.PipelineStage(runId, kind, stage, null, CancellationToken.None)));
    }
}
