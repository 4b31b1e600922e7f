using MultiTeacher.Jobs;
using MultiTeacher.Lineage;
using MultiTeacher.Tests.Cli;
using MultiTeacher.Tests.Integration;
using MultiTeacher.Tests.Lineage;
using static MultiTeacher.Tests.Jobs.JobHarness;
using MultiTeacher.Runs;

namespace MultiTeacher.Tests.Jobs;

/// <summary>Runs as Hangfire jobs against the real PostgreSQL: workers in their own processes, SIGKILL, cancellation, retries.</summary>
[Trait("Category", TestCategory.Database)]
[Collection("postgres")]
public sealed class JobTests(PostgresFixture postgres) : TempDirectoryTest
{
    private string Cache => Path.Combine(TempDir, "cache");

    [Fact]
    public void TwoWorkerProcessesSharingAQueue_RunEveryStageExactlyOnce_AndTrainingWaitsForEveryTeacherCache()
    {
        var db = postgres.NewDatabase();
        var runs = new TinyRuns(TempDir);
        runs.WriteData(trainDocuments: 2, trainChars: 2000);
        var teachers = TinyRuns.Teachers.Select((t, i) => (t.Name, Path: runs.WriteTeacher(t.Name, t.ModelType, t.Tokenizer, t.Vocab, seed: 10 + i))).ToList();
        var config = runs.WriteConfig("student", "mistral", 32000);
        string Recipe(string name, int seed) => runs.WriteRecipe(name, $"""
            seed: {seed}
            device: cpu
            data: {"{"} train: train.txt, seq_len: 32 {"}"}
            teachers:
            {string.Join("\n", teachers.Select(t => $"  - {{ name: {t.Name}, path: {t.Path} }}"))}
            student: {"{"} config: {config}, tokenizer: {TestAssets.TokenizerDir("mistral-7b-v0.1")} {"}"}
            alignment: {"{"} top_k: 8 {"}"}
            train: {"{"} steps: 4, batch_size: 2 {"}"}
            """);
        var first = Recipe("shared-a", 1);
        var second = Recipe("shared-b", 2);

        using var a = MtProcess.Worker(db, "shared", Cache);
        using var b = MtProcess.Worker(db, "shared", Cache);
        var runIds = new[] { Submit(db, first, "shared"), Submit(db, second, "shared") };
        WaitUntil(() => Scalar(db, "SELECT count(*) FROM hangfire.server") >= 2, what: "both workers to register");
        foreach (var id in runIds)
        {
            var end = WaitForEnd(db, id);
            Assert.True(end.Status == RunStatus.Succeeded, $"run {id} {end.Status}: {end.Error}\n{a.Output}\n{b.Output}");
        }

        var store = new LineageStore(db);
        var stages = runIds.SelectMany(store.Stages).ToList();
        Assert.Equal(2 * 3, stages.Count(s => s.Kind == StageKind.CacheTeacher && s.Status == StageStatus.Succeeded));
        Assert.Equal(2, stages.Count(s => s.Kind == StageKind.Train && s.Status == StageStatus.Succeeded));
        Assert.All(stages.Where(s => s.Kind is StageKind.CacheTeacher or StageKind.Train), s => Assert.Equal(1, s.Attempts));
        Assert.Equal(2, stages.Where(s => s.Worker is not null).Select(s => s.Worker).Distinct().Count());
        foreach (var id in runIds)
            Assert.Equal(1L, Scalar(db, """
                SELECT count(*) FROM lineage.stages t WHERE t.run_id = $1 AND t.kind = 'train'
                  AND t.started_at >= (SELECT max(finished_at) FROM lineage.stages c WHERE c.run_id = $1 AND c.kind = 'cache-teacher')
                """, id));
    }

    [Fact]
    public void WorkerKilledMidTraining_IsPickedUpByAnother_AndTheStudentIsBitIdentical()
    {
        var db = postgres.NewDatabase();
        var runs = new TinyRuns(TempDir);
        runs.WriteData(trainDocuments: 2, trainChars: 3000);
        const int steps = 80;
        var reference = StudentRecipe(runs, "reference", steps);
        Assert.Equal(0, CliRunner.Run("", "run", reference, "--database", db).ExitCode);

        var killed = StudentRecipe(runs, "killed", steps);
        long runId;
        using (var doomed = MtProcess.Worker(db, "k", Cache, invisibilitySeconds: 3))
        {
            runId = Submit(db, killed, "k");
            WaitUntil(() => Scalar(db, "SELECT count(*) FROM lineage.edges WHERE run_id = $1 AND role LIKE 'checkpoint:%'", runId) >= 2, what: "two checkpoints");
            doomed.Kill();
        }
        Assert.Equal(RunStatus.Running, new LineageStore(db).Run(runId)!.Status);
        using var rescuer = MtProcess.Worker(db, "k", Cache, invisibilitySeconds: 3);
        var end = WaitForEnd(db, runId);
        Assert.True(end.Status == RunStatus.Succeeded, $"{end.Status}: {end.Error}\n{rescuer.Output}");
        Assert.Contains("continuing from", rescuer.Output);

        Assert.Equal(2, new LineageStore(db).Stages(runId).Single(s => s.Kind == StageKind.Train).Attempts);
        Assert.Equal(File.ReadAllBytes(Path.Combine(runs.Output("reference"), "student", "model.safetensors")),
                     File.ReadAllBytes(Path.Combine(runs.Output("killed"), "student", "model.safetensors")));
        Assert.Equal(steps, Scalar(db, "SELECT count(DISTINCT step) FROM lineage.metrics WHERE run_id = $1 AND name = 'loss'", runId));
    }

    [Fact]
    public void Cancel_StopsTrainingAfterItsCurrentStep_CheckpointsIt_AndRecordsTheRunAsCancelled()
    {
        var db = postgres.NewDatabase();
        var runs = new TinyRuns(TempDir);
        runs.WriteData(trainDocuments: 2, trainChars: 3000);
        var recipe = StudentRecipe(runs, "cancelled", steps: 100_000);
        Migrator.Apply(db);
        using var worker = JobWorker.Start(db, ["c"], 1, TextWriter.Null, cacheRoot: Cache);
        var runId = Submit(db, recipe, "c");
        WaitUntil(() => File.Exists(Path.Combine(runs.Output("cancelled"), "metrics.jsonl")) && runs.Metrics("cancelled").Count >= 3, what: "three steps");

        var (code, output, error) = CliRunner.Run("", "cancel", runId.ToString(), "--database", db);
        Assert.True(code == 0, output + error);
        var run = new LineageStore(db).Run(runId)!;
        Assert.Equal(RunStatus.Cancelled, run.Status);
        var lastStep = runs.Metrics("cancelled").Count;
        Assert.Contains($"training cancelled after step {lastStep}", run.Error);
        Assert.True(File.Exists(Path.Combine(runs.Output("cancelled"), "checkpoints", $"step-{lastStep:D6}", "state.json")));
        Assert.Equal(StageStatus.Cancelled, new LineageStore(db).Stages(runId).Single(s => s.Kind == StageKind.Train).Status);
        Assert.Equal(2, CliRunner.Run("", "cancel", runId.ToString(), "--database", db).ExitCode);
    }

    [Fact]
    public void InputChangedAfterSubmission_FailsAsBadInput_WithoutRetrying()
    {
        var db = postgres.NewDatabase();
        var runs = new TinyRuns(TempDir);
        runs.WriteData(trainDocuments: 1, trainChars: 1500);
        var runId = Submit(db, StudentRecipe(runs, "changed", steps: 3), "changed");
        File.AppendAllText(Path.Combine(TempDir, "train.txt"), "one more line");
        using var worker = JobWorker.Start(db, ["changed"], 1, TextWriter.Null, cacheRoot: Cache);
        var end = WaitForEnd(db, runId);
        Assert.Equal(RunStatus.Failed, end.Status);
        Assert.Equal(RunFailure.BadInput, end.Failure);
        Assert.Contains("data.train", end.Error);
        // Hangfire's final Failed state means no retry is scheduled; a retry would first pass through Scheduled.
        var job = Scalar(db, "SELECT hangfire_job::bigint FROM lineage.stages WHERE run_id = $1 AND kind = 'train'", runId);
        WaitUntil(() => Scalar(db, "SELECT count(*) FROM hangfire.job WHERE id = $1 AND statename = 'Failed'", job) == 1, what: "the job's final state");
        Assert.Equal(0, Scalar(db, "SELECT count(*) FROM hangfire.state WHERE jobid = $1 AND name = 'Scheduled'", job));
        Assert.Equal(1, new LineageStore(db).Stages(runId).Single(s => s.Kind == StageKind.Train).Attempts);
    }

    [Fact]
    public void DatabaseRestartedDuringARun_LosesNoMetricRows()
    {
        var db = postgres.NewDatabase();
        var runs = new TinyRuns(TempDir);
        runs.WriteData(trainDocuments: 2, trainChars: 3000);
        const int steps = 120;
        var recipe = StudentRecipe(runs, "restart", steps);
        Migrator.Apply(db);
        using var worker = JobWorker.Start(db, ["r"], 1, TextWriter.Null, cacheRoot: Cache);
        var runId = Submit(db, recipe, "r");
        WaitUntil(() => Scalar(db, "SELECT count(DISTINCT step) FROM lineage.metrics WHERE run_id = $1", runId) >= 10, what: "ten steps of metrics");
        postgres.Server.Stop();
        Thread.Sleep(1500);
        postgres.Server.EnsureRunning();

        var end = WaitForEnd(db, runId);
        Assert.True(end.Status == RunStatus.Succeeded, $"{end.Status}: {end.Error}");
        var perStep = Scalar(db, "SELECT count(*) FROM lineage.metrics WHERE run_id = $1 AND step = 1", runId);
        Assert.Equal(5, perStep);   // loss, ce, lr, grad_norm, tokens_per_s (no teachers, so no kd, weights or coverage)
        Assert.Equal(steps * perStep, Scalar(db, "SELECT count(*) FROM lineage.metrics WHERE run_id = $1 AND name NOT LIKE 'bpb/%'", runId));
        Assert.Equal(steps, runs.Metrics("restart").Count);
    }
}
