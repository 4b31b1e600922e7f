using System.Diagnostics;
using MultiTeacher.Jobs;
using MultiTeacher.Lineage;
using MultiTeacher.Tests.Integration;
using Npgsql;

namespace MultiTeacher.Tests.Jobs;

/// <summary>An `mt worker` in a process of its own, as users run it; killed with SIGKILL when disposed.</summary>
public sealed class WorkerProcess : IDisposable
{
    private readonly Process _process;
    private readonly System.Text.StringBuilder _output = new();

    public int Pid => _process.Id;
    public string Output { get { lock (_output) return _output.ToString(); } }

    public WorkerProcess(string database, string queue, string cacheRoot, double invisibilitySeconds = 300)
    {
        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "mt"), ["worker", "--queues", queue, "--database", database])
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
        };
        start.Environment["MT_CACHE"] = cacheRoot;
        start.Environment["MT_JOB_INVISIBILITY_S"] = invisibilitySeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>SIGKILL: no shutdown code runs, exactly like a machine that loses power.</summary>
    public void Kill()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }
}

/// <summary>Waiting on runs and reading what the job tables say about them.</summary>
public static class JobHarness
{
    public static RunSummary WaitForEnd(string database, long runId, int seconds = 240)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        return RunFollower.Wait(new LineageStore(database), runId, cancel: timeout.Token, poll: TimeSpan.FromMilliseconds(100));
    }

    public static void WaitUntil(Func<bool> condition, int seconds = 120, string what = "condition")
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"timed out waiting for {what}");
            Thread.Sleep(50);
        }
    }

    public static long Scalar(string database, string sql, params object[] values)
    {
        using var c = new NpgsqlConnection(database);
        c.Open();
        using var command = new NpgsqlCommand(sql, c);
        foreach (var v in values) command.Parameters.Add(new NpgsqlParameter { Value = v });
        return Convert.ToInt64(command.ExecuteScalar() ?? 0L);
    }

    /// <summary>A hard-label student recipe long enough to interrupt, checkpointing every 10 steps.</summary>
    public static string StudentRecipe(TinyRuns runs, string name, int steps, string extra = "")
    {
        var config = runs.WriteConfig("student", "qwen2", 32000);
        return runs.WriteRecipe(name, $"""
            seed: 5
            device: cpu
            data: {"{"} train: train.txt, seq_len: 32 {"}"}
            student: {"{"} config: {config}, tokenizer: {TestAssets.TokenizerDir("mistral-7b-v0.1")} {"}"}
            train: {"{"} steps: {steps}, batch_size: 2, lr: 0.003, checkpoint_every: 10, log_every: 10 {"}"}
            {extra}
            """);
    }
}
