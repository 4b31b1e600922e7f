using MultiTeacher.Lineage;
using MultiTeacher.Runs;
using MultiTeacher.Tests.Cli;
using MultiTeacher.Tests.Jobs;
using MultiTeacher.Tests.Lineage;
using static MultiTeacher.Tests.Jobs.JobHarness;

namespace MultiTeacher.Tests.Integration;

/// <summary>`mt run` and `mt worker` as real processes under faults: SIGKILL, SIGTERM, resume after a kill, two runs into one directory.</summary>
[Trait("Category", TestCategory.Database)]
[Collection("postgres")]
public sealed class RunFaultTests(PostgresFixture postgres) : TempDirectoryTest
{
    private const int SigTerm = 15;

    private (string Db, TinyRuns Runs) Setup()
    {
        var runs = new TinyRuns(TempDir);
        runs.WriteData(trainDocuments: 2, trainChars: 3000);
        return (postgres.NewDatabase(), runs);
    }

    private static MtProcess Run(string db, string recipe, bool relaunch = false) => new(["run", recipe, "--database", db], relaunch: relaunch);

    /// <summary>Complete lines of metrics.jsonl (a kill may leave a torn last line).</summary>
    private static int Logged(TinyRuns runs, string name)
    {
        var path = Path.Combine(runs.Output(name), "metrics.jsonl");
        if (!File.Exists(path)) return 0;
        using var reader = new StreamReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
        return reader.ReadToEnd().Split('\n').Count(l => l.EndsWith('}'));
    }

    private static void WaitForSteps(TinyRuns runs, string name, int steps, MtProcess process) =>
        WaitUntil(() => Logged(runs, name) >= steps || process.HasExited, what: $"{steps} steps of {name}");

    [Fact]
    public void KilledParent_TakesItsRelaunchedChildWithIt_AndTheRunEndsCancelled()
    {
        var (db, runs) = Setup();
        var recipe = StudentRecipe(runs, "orphan", steps: 100_000);
        using var mt = Run(db, recipe, relaunch: true);
        WaitForSteps(runs, "orphan", 3, mt);
        var child = Assert.Single(mt.Children());

        mt.Send(9);
        WaitUntil(() => !MtProcess.IsRunning(child), seconds: 120, what: "the relaunched child to exit");
        var run = new LineageStore(db).Runs().Single();
        Assert.True(run.Status == RunStatus.Cancelled, $"{run.Status}: {run.Error}\n{mt.Output}");
        Assert.Contains("training cancelled after step", run.Error);
    }

    [Fact]
    public void KilledForegroundRuns_CancelSucceedsAtOnce_AndListingRunsMarksThemFailed()
    {
        var (db, runs) = Setup();
        using var cancelled = Run(db, StudentRecipe(runs, "to-cancel", steps: 100_000));
        using var listed = Run(db, StudentRecipe(runs, "to-list", steps: 100_000));
        WaitForSteps(runs, "to-cancel", 2, cancelled);
        WaitForSteps(runs, "to-list", 2, listed);
        cancelled.Kill();
        listed.Kill();
        var store = new LineageStore(db);
        var ids = store.Runs().ToDictionary(r => r.Recipe, r => r.Id);
        Assert.All(ids.Values, id => Assert.Equal(RunStatus.Running, store.Run(id)!.Status));

        // A bounded wait: the run must end at once, not when a worker that will never come back stops it.
        var (code, output, error) = CliRunner.Run("", "cancel", ids["to-cancel"].ToString(), "--database", db, "--wait", "10");
        Assert.True(code == 0, output + error);
        Assert.Contains("had ended", store.Run(ids["to-cancel"])!.Error);

        Assert.Equal(0, CliRunner.Run("", "runs", "--database", db).ExitCode);
        var failed = store.Run(ids["to-list"])!;
        Assert.Equal((RunStatus.Failed, RunFailure.Error), (failed.Status, failed.Failure));
        Assert.Contains("ended before the run did", failed.Error);
    }

    [Fact]
    public void ResumeAfterAKill_KeepsEveryStepOnceInMetricsJsonl()
    {
        var (db, runs) = Setup();
        const int steps = 60;
        var recipe = StudentRecipe(runs, "resumed", steps);
        using (var mt = Run(db, recipe))
        {
            // Between two checkpoints (every 10 steps), so steps after the last checkpoint are logged and will be trained again.
            WaitUntil(() => Logged(runs, "resumed") is var n && n > 10 && n % 10 is >= 3 and <= 7, what: "steps past a checkpoint");
            mt.Kill();
        }
        var logged = Logged(runs, "resumed");
        var checkpoint = Directory.GetDirectories(Path.Combine(runs.Output("resumed"), "checkpoints"))
            .Where(d => File.Exists(Path.Combine(d, "state.json"))).Max(d => int.Parse(Path.GetFileName(d)["step-".Length..]));
        Assert.True(logged > checkpoint, $"killed at step {logged}, checkpoint {checkpoint}");

        var (code, _, error) = CliRunner.Run("", "run", recipe, "--resume", "--database", db);
        Assert.True(code == 0, error);
        Assert.Equal(Enumerable.Range(1, steps), runs.Metrics("resumed").Select(m => m.GetProperty("step").GetInt32()));
    }

    [Fact]
    public void SecondRunIntoAnOutputDirectoryInUse_IsRefusedWithOneLine_AndNotRecorded()
    {
        var (db, runs) = Setup();
        var recipe = StudentRecipe(runs, "shared-output", steps: 100_000);
        using var first = Run(db, recipe);
        WaitForSteps(runs, "shared-output", 1, first);

        var (code, _, error) = CliRunner.Run("", "run", recipe, "--database", db);
        Assert.Equal(2, code);
        Assert.Equal($"mt: output directory {runs.Output("shared-output")} is in use by another run; wait for it to end or give the recipe another output", error.Trim());
        Assert.Single(new LineageStore(db).Runs());
    }

    [Fact]
    public void WorkerSentSigterm_CheckpointsItsCurrentStep_AndExits()
    {
        var (db, runs) = Setup();
        var recipe = StudentRecipe(runs, "stopped", steps: 100_000);
        using var worker = new MtProcess(["worker", "--queues", "stop", "--database", db], new Dictionary<string, string> { ["MT_CACHE"] = Path.Combine(TempDir, "cache") }, relaunch: true);
        var (code, output, error) = CliRunner.Run("", "submit", recipe, "--queue", "stop", "--database", db);
        Assert.True(code == 0, error);
        WaitForSteps(runs, "stopped", 3, worker);

        worker.Send(SigTerm);
        WaitUntil(() => worker.HasExited, seconds: 60, what: "the worker to exit");
        Assert.True(worker.ExitCode == 0, worker.Output);
        Assert.Contains("worker stopping; the stage goes back to the queue", worker.Output);
        var last = Logged(runs, "stopped");
        Assert.True(File.Exists(Path.Combine(runs.Output("stopped"), "checkpoints", $"step-{last:D6}", "state.json")), worker.Output);
        Assert.Equal(RunStatus.Running, new LineageStore(db).Run(long.Parse(output.Trim()))!.Status);
    }

    [Theory]
    [InlineData(SigTerm)]
    [InlineData(2)]
    public void DashboardAfterARun_StopsOnSigtermAndSigint(int signal)
    {
        var runs = new TinyRuns(TempDir);
        runs.WriteData(trainDocuments: 1, trainChars: 1500);
        // The default database: mt's private server in MT_DATA, as users have it.
        var root = Path.Combine(Path.GetTempPath(), "mt-data-" + Guid.NewGuid().ToString("N")[..12]);
        var data = new Dictionary<string, string> { ["MT_DATA"] = root };
        try
        {
            DashboardStops(runs, data, signal);
        }
        finally
        {
            new EmbeddedPostgres(Path.Combine(root, "postgres")).Stop();
            Directory.Delete(root, recursive: true);
        }
    }

    private static void DashboardStops(TinyRuns runs, Dictionary<string, string> data, int signal)
    {
        using (var run = new MtProcess(["run", StudentRecipe(runs, "before-dashboard", steps: 3)], data))
            WaitUntil(() => run.HasExited, seconds: 240, what: "the run");
        var port = 20000 + Random.Shared.Next(0, 20000);
        using var dashboard = new MtProcess(["dashboard", "--urls", $"http://127.0.0.1:{port}"], data, relaunch: true);
        using var http = new HttpClient();
        WaitUntil(() => { try { return http.GetAsync($"http://127.0.0.1:{port}/").Result.IsSuccessStatusCode; } catch (AggregateException) { return false; } },
            what: "the dashboard to serve");

        dashboard.Send(signal);
        // It stops within a second; the deadline leaves room for a machine busy with the rest of the suite.
        WaitUntil(() => dashboard.HasExited, seconds: 60, what: "the dashboard to stop");
        Assert.True(dashboard.ExitCode == 0, dashboard.Output);
    }
}
