using System.Collections.Concurrent;
using System.Diagnostics;
using MultiTeacher.Tests.Cli;
using Xunit.Abstractions;

namespace MultiTeacher.Tests.Reliability;

/// <summary>What one hostile case did: exit code, streams, and whether it finished in time.</summary>
public sealed record HostileOutcome(int ExitCode, string Out, string Error, bool TimedOut)
{
    /// <summary>Clean: finished, exit 0 (accepted) or 2 (refused as bad input), and stderr holds messages, not a trace or a crash.</summary>
    public bool Clean => !TimedOut && ExitCode is 0 or 2 && !LooksLikeTrace(Error) && (ExitCode == 0 || Error.Length > 0);

    public static bool LooksLikeTrace(string text) =>
        text.Contains("\n   at ", StringComparison.Ordinal) || text.Contains("Unhandled exception", StringComparison.Ordinal)
        || text.Contains("Stack overflow", StringComparison.Ordinal) || text.Contains("--- End of", StringComparison.Ordinal);

    public override string ToString() => TimedOut ? "timed out" : $"exit {ExitCode}: {Error.Trim()}";
}

/// <summary>Runs hostile cases through the real CLI, in-process or as an `mt` process, always with a deadline.</summary>
public static class Hostile
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    /// <summary>In-process (CliRunner); a case that does not end by the deadline is reported as timed out (its thread is abandoned).</summary>
    public static HostileOutcome Cli(string stdin, params string[] args) => Within(() => CliRunner.Run(stdin, args));

    public static HostileOutcome CliBytes(byte[] stdin, params string[] args) => Within(() => CliRunner.RunBytes(stdin, args));

    private static HostileOutcome Within(Func<(int, string, string)> run)
    {
        var task = Task.Factory.StartNew(run, TaskCreationOptions.LongRunning);
        if (!task.Wait(Deadline)) return new HostileOutcome(-1, "", "", TimedOut: true);
        var (code, output, error) = task.Result;
        return new HostileOutcome(code, output, error, TimedOut: false);
    }

    /// <summary>`mt` as its own process, where a hang, a signal or a crash of the whole process is the point; killed at the deadline.</summary>
    public static HostileOutcome Process(string? stdin, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "mt"), args)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true,
        };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
        using var process = System.Diagnostics.Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (stdin is not null) process.StandardInput.Write(stdin);
        process.StandardInput.Close();
        if (!process.WaitForExit(Deadline))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            return new HostileOutcome(-1, output.Result, error.Result, TimedOut: true);
        }
        return new HostileOutcome(process.ExitCode, output.Result, error.Result, TimedOut: false);
    }

    /// <summary>Asserts the bad-input contract: exit 2, one line on stderr that names the file and the problem.</summary>
    public static void AssertRefused(HostileOutcome outcome, params string[] mentions)
    {
        Assert.False(outcome.TimedOut, "the command did not end");
        Assert.True(outcome.ExitCode == 2, outcome.ToString());
        Assert.False(HostileOutcome.LooksLikeTrace(outcome.Error), outcome.Error);
        Assert.Single(outcome.Error.TrimEnd('\n').Split('\n'));
        foreach (var m in mentions) Assert.Contains(m, outcome.Error);
    }
}

/// <summary>Per-category counts of hostile cases, printed as "category: N tried, M clean" (scripts/torture.sh collects the lines).</summary>
public sealed class HostileTally(ITestOutputHelper output)
{
    private readonly ConcurrentDictionary<string, (int Tried, int Clean)> _counts = new();
    private readonly ConcurrentQueue<string> _dirty = new();

    public void Add(string category, string name, HostileOutcome outcome)
    {
        _counts.AddOrUpdate(category, _ => (1, outcome.Clean ? 1 : 0), (_, c) => (c.Tried + 1, c.Clean + (outcome.Clean ? 1 : 0)));
        if (!outcome.Clean) _dirty.Enqueue($"{category}/{name}: {outcome}");
    }

    /// <summary>Prints the counts and the first unclean cases, and asserts every case was clean.</summary>
    public void Report()
    {
        foreach (var (category, (tried, clean)) in _counts.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            var line = $"hostile {category}: {tried} tried, {clean} clean";
            output.WriteLine(line);
            Console.WriteLine(line);
            if (Environment.GetEnvironmentVariable("MT_TORTURE_REPORT") is { Length: > 0 } report) File.AppendAllText(report, line + "\n");
        }
        foreach (var d in _dirty.Take(20)) output.WriteLine("  not clean: " + d);
        Assert.True(_dirty.IsEmpty, $"{_dirty.Count} case(s) not clean, first: {_dirty.FirstOrDefault()}");
    }
}
