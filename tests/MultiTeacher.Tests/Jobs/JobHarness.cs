using System.Diagnostics;
using MultiTeacher.Jobs;
using MultiTeacher.Lineage;
using MultiTeacher.Tests.Cli;
using MultiTeacher.Tests.Integration;
using Npgsql;

namespace MultiTeacher.Tests.Jobs;

/// <summary>An `mt` command in a process of its own, as users run it from a terminal; killed with SIGKILL (with its children) when disposed.</summary>
public sealed class MtProcess : IDisposable
{
    private readonly Process _process;
    private readonly System.Text.StringBuilder _output = new();

    public int Pid => _process.Id;
    public string Output { get { lock (_output) return _output.ToString(); } }

    /// <param name="relaunch">Start without MALLOC_ARENA_MAX, so `mt` relaunches itself in a child process as it does for users.</param>
    public MtProcess(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, bool relaunch = false)
    {
        // A test host started by a non-interactive shell's background job inherits SIGINT ignored, and .NET
        // keeps an inherited ignore; env (which execs, keeping the pid) gives mt the default a terminal gives it.
        var start = new ProcessStartInfo("env", ["--default-signal=INT", Path.Combine(AppContext.BaseDirectory, "mt"), .. args]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        if (relaunch) foreach (var name in new[] { "MALLOC_ARENA_MAX", "MT_RELAUNCHED_BY", "MT_GLIBC_MALLOC" }) start.Environment.Remove(name);
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>An `mt worker` on a queue, with its cache directory and Hangfire's invisibility timeout.</summary>
    public static MtProcess Worker(string database, string queue, string cacheRoot, double invisibilitySeconds = 300) =>
        new(["worker", "--queues", queue, "--database", database], new Dictionary<string, string>
        {
            ["MT_CACHE"] = cacheRoot,
            ["MT_JOB_INVISIBILITY_S"] = invisibilitySeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
    private static extern int Signal(int pid, int signal);

    /// <summary>Sends a signal (15 SIGTERM, 2 SIGINT, 9 SIGKILL) to this process alone.</summary>
    public void Send(int signal) => Signal(_process.Id, signal);

    /// <summary>The processes this one started (the relaunched `mt`).</summary>
    public IReadOnlyList<int> Children() => Directory.GetDirectories($"/proc/{Pid}/task")
        .SelectMany(task => File.ReadAllText(Path.Combine(task, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries)).Select(int.Parse).ToList();

    /// <summary>Whether a process exists and has not exited (a zombie has).</summary>
    public static bool IsRunning(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/stat").Split(") ")[1][0] is not ('Z' or 'X'); }
        catch (IOException) { return false; }
    }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>SIGKILL for the process and its children: no shutdown code runs, exactly like a machine that loses power.</summary>
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
    /// <summary>`mt submit` of a recipe onto a queue; the run id it prints.</summary>
    public static long Submit(string database, string recipe, string queue)
    {
        var (code, output, error) = CliRunner.Run("", "submit", recipe, "--queue", queue, "--database", database);
        Assert.True(code == 0, error);
        return long.Parse(output.Trim());
    }

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

    /// <summary>How many Hangfire servers have registered; 0 before the first of them has created Hangfire's schema.</summary>
    public static long RegisteredServers(string database) =>
        Scalar(database, "SELECT count(*) FROM pg_tables WHERE schemaname = 'hangfire' AND tablename = 'server'") == 0 ? 0 : Scalar(database, "SELECT count(*) FROM hangfire.server");

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
