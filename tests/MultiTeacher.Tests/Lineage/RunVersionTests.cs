using MultiTeacher.Lineage;
using MultiTeacher.Runs;

namespace MultiTeacher.Tests.Lineage;

/// <summary>
/// A run's version moves with everything its page and charts show, and with nothing of another
/// run's; the lineage version moves with the graph.
/// </summary>
[Trait("Category", TestCategory.Database)]
[Collection("postgres")]
public sealed class RunVersionTests(PostgresFixture postgres) : TempDirectoryTest
{
    private (LineageStore Store, long Run, long Other) TwoRuns()
    {
        var db = postgres.NewDatabase();
        Migrator.Apply(db);
        var store = new LineageStore(db);
        var recipe = store.RecordRecipe("version", "name: version");
        var run = store.StartRun(recipe, 1, new Dictionary<string, string>());
        var other = store.StartRun(recipe, 2, new Dictionary<string, string>());
        store.AppendMetrics(run, [(1, "loss", 5.0), (1, "lr", 0.001)]);
        return (store, run, other);
    }

    [Fact]
    public void RunVersion_ChangesWithEachThingThePageShows_AndNotWithAnotherRun()
    {
        var (store, run, other) = TwoRuns();
        var seen = new List<string> { store.RunVersion(run)! };
        void Changed(string what)
        {
            var now = store.RunVersion(run)!;
            Assert.True(!seen.Contains(now), $"the version did not change with {what}");
            seen.Add(now);
        }

        Assert.Equal(seen[^1], store.RunVersion(run));
        store.AppendMetrics(run, [(2, "loss", 4.0)]);
        Changed("a new step");
        store.AppendMetrics(run, [(2, "eval_bpb", 1.9)]);
        Changed("a new row at the latest step");
        var stage = store.StartStage(run, StageKind.Train, "student")!.Value;
        Changed("a stage starting");
        store.FinishStage(stage, StageStatus.Succeeded);
        Changed("a stage finishing");
        var file = Path.Combine(TempDir, "data.txt");
        File.WriteAllText(file, "text");
        store.Link(run, store.RecordArtifact("dataset", file), "used", "data.train");
        Changed("an artifact linked");
        store.FinishRun(run, RunStatus.Succeeded);
        Changed("the run finishing");
        store.RecordAudit(run, "reproduced", "{\"Reason\": \"ok\"}");
        Changed("an audit of the finished run");

        store.AppendMetrics(other, [(7, "loss", 1.0)]);
        store.StartStage(other, StageKind.Train, "student");
        store.RecordAudit(other, "diverged", "{}");
        store.FinishRun(other, RunStatus.Failed, "broke");
        Assert.Equal(seen[^1], store.RunVersion(run));
        Assert.NotEqual(store.RunVersion(run), store.RunVersion(other));
    }

    [Fact]
    public void RunVersion_OfARunThatDoesNotExist_IsNull()
    {
        var (store, _, other) = TwoRuns();
        Assert.Null(store.RunVersion(other + 1000));
    }

    [Fact]
    public void LineageVersion_ChangesWithNewRunsEdgesAndStatuses()
    {
        var (store, run, other) = TwoRuns();
        var before = store.LineageVersion();
        Assert.Equal(before, store.LineageVersion());
        var file = Path.Combine(TempDir, "student.bin");
        File.WriteAllText(file, "weights");
        var artifact = store.RecordArtifact("student", file);
        store.Link(run, artifact, "produced", "student");
        var linked = store.LineageVersion();
        Assert.NotEqual(before, linked);
        store.Link(other, artifact, "used", "student.init");
        var used = store.LineageVersion();
        Assert.NotEqual(linked, used);
        store.FinishRun(other, RunStatus.Cancelled);
        var finished = store.LineageVersion();
        Assert.NotEqual(used, finished);
        store.StartRun(store.RecordRecipe("later", "name: later"), 3, new Dictionary<string, string>());
        Assert.NotEqual(finished, store.LineageVersion());
    }

    [Fact]
    public void RunsVersion_ChangesWithALiveRunsSteps_AndStandsWhileEveryRunIsFinished()
    {
        var (store, run, other) = TwoRuns();
        var live = store.RunsVersion(500);
        store.AppendMetrics(run, [(2, "loss", 4.0)]);
        Assert.NotEqual(live, store.RunsVersion(500));
        store.FinishRun(run, RunStatus.Succeeded);
        store.FinishRun(other, RunStatus.Failed, "broke");
        var finished = store.RunsVersion(500);
        Assert.Equal(finished, store.RunsVersion(500));   // no live run: no clock in the version
        store.StartRun(store.RecordRecipe("later", "name: later"), 3, new Dictionary<string, string>());
        Assert.NotEqual(finished, store.RunsVersion(500));
    }
}
