using MultiTeacher.Jobs;
using MultiTeacher.Lineage;
using MultiTeacher.Pipelines;
using MultiTeacher.Runs;
using MultiTeacher.Tests.Integration;
using MultiTeacher.Tests.Lineage;
using static MultiTeacher.Tests.Jobs.JobHarness;

namespace MultiTeacher.Tests.Pipelines;

/// <summary>Pipeline stages as jobs against the real PostgreSQL and Hangfire: fan-in under the run's lock, and dependency order on a worker.</summary>
[Trait("Category", TestCategory.Database)]
[Collection("postgres")]
public sealed class PipelineJobTests(PostgresFixture postgres) : TempDirectoryTest
{
    private static readonly Dictionary<string, IReadOnlyList<string>> Diamond = new()
    {
        ["a"] = [], ["b"] = ["a"], ["c"] = ["a"], ["d"] = ["b", "c"],
    };

    /// <summary>A queued pipeline run with stage a queued (its job attached) and the others pending, as submission leaves it.</summary>
    private (LineageStore Store, JobLedger Ledger, long RunId) Submitted(params (StageKind Kind, string Name)[] stages)
    {
        var db = postgres.NewDatabase();
        Migrator.Apply(db);
        var store = new LineageStore(db);
        var runId = store.StartRun(store.RecordRecipe("diamond", "name: diamond"), 1, new Dictionary<string, string>(), RunStatus.Queued);
        store.QueueRun(runId, "q", false, stages.Select(s => (s.Kind, s.Name, s.Name == "a" ? StageStatus.Queued : StageStatus.Pending)));
        store.AttachJob(runId, StageKind.Transplant, "a", "job-a");
        return (store, new JobLedger(db), runId);
    }

    [Fact]
    public void Completions_QueueAStageOnlyWhenEveryStageItReadsHasSucceeded_AndTheLastEndsTheRun()
    {
        var (store, ledger, runId) = Submitted((StageKind.Transplant, "a"), (StageKind.Distill, "b"), (StageKind.Finetune, "c"), (StageKind.Merge, "d"));
        var stageRun = store.StartRun(store.RecordRecipe("diamond.a", "name: a"), 1, new Dictionary<string, string>());

        Assert.Equal(["b", "c"], ledger.CompletePipelineStage(runId, StageKind.Transplant, "a", stageRun, Diamond).Order(StringComparer.Ordinal));
        store.AttachJob(runId, StageKind.Distill, "b", "job-b");
        store.AttachJob(runId, StageKind.Finetune, "c", "job-c");
        Assert.Equal(StageStatus.Pending, store.Stages(runId).Single(s => s.Name == "d").Status);
        Assert.Empty(ledger.CompletePipelineStage(runId, StageKind.Distill, "b", null, Diamond));
        Assert.Equal(StageStatus.Pending, store.Stages(runId).Single(s => s.Name == "d").Status);
        Assert.Equal(["d"], ledger.CompletePipelineStage(runId, StageKind.Finetune, "c", null, Diamond));
        Assert.Equal(RunStatus.Queued, store.Run(runId)!.Status);
        // A completion delivered twice, after d was queued but before its job was attached, hands d out again rather than losing it.
        Assert.Equal(["d"], ledger.CompletePipelineStage(runId, StageKind.Finetune, "c", null, Diamond));
        store.AttachJob(runId, StageKind.Merge, "d", "job-d");
        Assert.Empty(ledger.CompletePipelineStage(runId, StageKind.Finetune, "c", null, Diamond));

        Assert.Empty(ledger.CompletePipelineStage(runId, StageKind.Merge, "d", null, Diamond));
        Assert.Equal(RunStatus.Succeeded, store.Run(runId)!.Status);
        Assert.Equal(stageRun, store.PipelineStages(runId).Single(s => s.Name == "a").StageRun);
        Assert.Equal((runId, "a"), store.PipelineOf(stageRun));
    }

    [Fact]
    public void CompletionAfterACancelRequest_QueuesNothing_AndEndsTheRunCancelled()
    {
        var (store, ledger, runId) = Submitted((StageKind.Transplant, "a"), (StageKind.Distill, "b"));
        Assert.Equal(StageClaim.Claimed, ledger.Claim(runId, StageKind.Transplant, "a", "job-a", ProcessIdentity.Current));
        store.RequestCancel(runId);
        Assert.Empty(ledger.CompletePipelineStage(runId, StageKind.Transplant, "a", null, Diamond));
        Assert.Equal(RunStatus.Cancelled, store.Run(runId)!.Status);
        Assert.Equal(StageStatus.Cancelled, store.Stages(runId).Single(s => s.Name == "b").Status);
    }

    [Fact]
    public void DiamondPipeline_OnAWorkerWithTwoSlots_RunsEachStageOnceAfterEveryStageItReads()
    {
        var db = postgres.NewDatabase();
        Migrator.Apply(db);
        var runs = new TinyRuns(TempDir);
        var origin = runs.WriteTeacher("origin", "mistral", "mistral-7b-v0.1", 32000, seed: 3);
        string Transplant(string name, string model) => $"  - {{ name: {name}, kind: transplant, transplant: {{ model: \"{model}\", tokenizer: {origin}, method: mean }} }}\n";
        var path = Path.Combine(TempDir, "diamond.yaml");
        File.WriteAllText(path, "name: diamond\noutput: out\nstages:\n"
            + "  - { name: d, kind: merge, merge: { method: linear, models: [ { model: \"${stages.b.output}\" }, { model: \"${stages.c.output}\" } ] } }\n"
            + Transplant("c", "${stages.a.output}") + Transplant("b", "${stages.a.output}") + Transplant("a", origin));
        var pipeline = PipelineLoader.Load(path);
        Assert.Equal(["a", "c", "b", "d"], pipeline.Order);

        var runId = 0L;
        using (var worker = JobWorker.Start(db, ["diamond"], 2, TextWriter.Null))
        {
            runId = new JobClient(db, worker.Storage).Submit(pipeline, "diamond");
            var end = WaitForEnd(db, runId);
            Assert.True(end.Status == RunStatus.Succeeded, end.Error);
        }
        var stages = new LineageStore(db).Stages(runId).ToDictionary(s => s.Name);
        Assert.All(stages.Values, s => Assert.Equal((StageStatus.Succeeded, 1), (s.Status, s.Attempts)));
        foreach (var (stage, input) in new[] { ("b", "a"), ("c", "a"), ("d", "b"), ("d", "c") })
            Assert.True(stages[stage].StartedAt >= stages[input].FinishedAt, $"{stage} started before {input} finished");
        Assert.Equal(4L, Scalar(db, "SELECT count(*) FROM hangfire.job WHERE invocationdata::text LIKE '%PipelineStage%'"));
        Assert.Equal(4L, Scalar(db, "SELECT count(DISTINCT stage_run) FROM lineage.stages WHERE run_id = $1", runId));
    }
}
