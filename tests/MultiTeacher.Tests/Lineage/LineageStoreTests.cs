using MultiTeacher.Lineage;
using MultiTeacher.Recipes;
using MultiTeacher.Tests.Cli;
using MultiTeacher.Tests.Integration;
using Npgsql;
using MultiTeacher.Runs;

namespace MultiTeacher.Tests.Lineage;

[Trait("Category", TestCategory.Database)]
[Collection("postgres")]
public sealed class LineageStoreTests(PostgresFixture postgres) : TempDirectoryTest
{
    private LineageStore NewStore(out string connection)
    {
        connection = postgres.NewDatabase();
        Migrator.Apply(connection);
        return new LineageStore(connection);
    }

    [Fact]
    public void HostileNamesAndPaths_AreStoredAsData()
    {
        var store = NewStore(out var connection);
        const string hostile = "x'); DROP TABLE lineage.runs; --";
        var dir = Path.Combine(TempDir, "it's \"quoted\"; DROP TABLE x");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "f.txt"), "data");
        var recipe = store.RecordRecipe(hostile, "name: " + hostile);
        var run = store.StartRun(recipe, 1, new Dictionary<string, string> { ["note"] = hostile });
        store.Link(run, store.RecordArtifact("dataset", dir), "used", hostile);
        store.AppendMetrics(run, [(1, hostile, 1.5)]);

        Assert.Equal(hostile, store.Runs().Single().Recipe);
        var artifact = store.Artifacts(run).Single();
        Assert.Equal(hostile, artifact.Role);
        Assert.Equal(dir, artifact.Path);
        Assert.Equal(hostile, store.MetricSummary(run).Single().Name);
        using var c = new NpgsqlConnection(connection);
        c.Open();
        Assert.Equal(1L, new NpgsqlCommand("SELECT count(*) FROM lineage.runs", c).ExecuteScalar());
    }

    [Fact]
    public void Metrics_AreCopiedInBatches_AndARerunStepOverwrites()
    {
        var store = NewStore(out _);
        var run = store.StartRun(store.RecordRecipe("r", "name: r"), 1, new Dictionary<string, string>());
        store.AppendMetrics(run, Enumerable.Range(1, 5000).SelectMany(s => new[] { (s, "loss", 1.0 / s), (s, "lr", 0.1) }).ToList());
        store.AppendMetrics(run, [(5000, "loss", 42.0)]);
        var loss = store.MetricSummary(run).Single(m => m.Name == "loss");
        Assert.Equal(5000, loss.Count);
        Assert.Equal(42.0, loss.Last);
        Assert.Equal(5000, store.Runs().Single().Steps);
    }

    [Fact]
    public void FinishedRun_HasEveryInputAndOutputHashedAndLinked()
    {
        var connection = postgres.NewDatabase();
        var runs = new TinyRuns(TempDir);
        runs.WriteData(trainDocuments: 1, trainChars: 1500);
        var config = runs.WriteConfig("student", "qwen2", 32000);
        var recipe = runs.WriteRecipe("recorded", $"""
            seed: 1
            data: {"{"} train: train.txt, seq_len: 24 {"}"}
            student: {"{"} config: {config}, tokenizer: {TestAssets.TokenizerDir("mistral-7b-v0.1")} {"}"}
            train: {"{"} steps: 4, batch_size: 2, lr: 0.001, checkpoint_every: 2 {"}"}
            """);
        var (code, output, error) = CliRunner.Run("", "run", recipe, "--database", connection);
        Assert.True(code == 0, error);
        Assert.Contains("run 1", output);

        var store = new LineageStore(connection);
        var run = store.Runs().Single();
        Assert.Equal((RunStatus.Succeeded, 4), (run.Status, run.Steps));
        var artifacts = store.Artifacts(run.Id);
        foreach (var role in new[] { "recipe", "data.train", "student.config", "student.tokenizer" })
            Assert.Contains(artifacts, a => a.Direction == "used" && a.Role == role);
        var student = Assert.Single(artifacts, a => a.Direction == "produced" && a.Role == "student");
        Assert.Equal(ContentHash.Of(student.Path), student.Sha256);
        Assert.Equal(2, artifacts.Count(a => a.Kind == "checkpoint"));
        Assert.Equal(ContentHash.Of(Path.Combine(TempDir, "train.txt")), artifacts.Single(a => a.Role == "data.train").Sha256);

        Assert.Equal([(StageKind.Train, "student", StageStatus.Succeeded), (StageKind.Save, "student", StageStatus.Succeeded)], store.Stages(run.Id).Select(s => (s.Kind, s.Name, s.Status)));
        Assert.Equal(0, CliRunner.Run("", "runs", "--database", connection).ExitCode);
        var (showCode, show, _) = CliRunner.Run("", "show", run.Id.ToString(), "--database", connection);
        Assert.Equal(0, showCode);
        Assert.Contains("student.tokenizer", show);
        Assert.Contains("loss", show);

        var (olCode, lines, olError) = CliRunner.Run("", "lineage", run.Id.ToString(), "--openlineage", "--database", connection);
        Assert.True(olCode == 0, olError);
        var events = lines.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal("START", events[0].GetProperty("eventType").GetString());
        var complete = events[^1];
        Assert.Equal("COMPLETE", complete.GetProperty("eventType").GetString());
        Assert.Equal(events[0].GetProperty("run").GetProperty("runId").GetString(), complete.GetProperty("run").GetProperty("runId").GetString());
        Assert.True(Guid.TryParse(complete.GetProperty("run").GetProperty("runId").GetString(), out _));
        var outputStudent = complete.GetProperty("outputs").EnumerateArray().Single(o => o.GetProperty("name").GetString() == student.Path);
        Assert.Equal(student.Sha256, outputStudent.GetProperty("facets").GetProperty("version").GetProperty("datasetVersion").GetString());
        Assert.Equal(artifacts.Count(a => a.Direction == "used"), complete.GetProperty("inputs").GetArrayLength());
        var stageEvents = events.Where(e => e.GetProperty("run").GetProperty("facets").TryGetProperty("parent", out _)).ToList();
        Assert.Equal(4, stageEvents.Count);   // train and save, START and COMPLETE each
        Assert.All(stageEvents, e => Assert.Equal(complete.GetProperty("run").GetProperty("runId").GetString(),
            e.GetProperty("run").GetProperty("facets").GetProperty("parent").GetProperty("run").GetProperty("runId").GetString()));
    }
}
