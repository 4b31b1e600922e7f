using System.Collections.Concurrent;
using System.Diagnostics;
using MultiTeacher.Lineage;
using MultiTeacher.Teachers;

namespace MultiTeacher.Benchmarks;

/// <summary>
/// One scale-out measurement: the caching seconds, and where they went. Per shard job, the seconds
/// of each <see cref="CachePhase"/> (from the workers' phase lines); per worker, the idle seconds
/// between its jobs and before its first one (queue polling); the seconds of the jobs outside their
/// phases (claim, recipe, completion); and the CPU seconds the
/// benchmark process and PostgreSQL used meanwhile, which the pinned workers compete with.
/// </summary>
public sealed record ScaleOutMeasurement(double Seconds, IReadOnlyList<IReadOnlyList<IReadOnlyDictionary<CachePhase, double>>> Phases,
    double IdleSeconds, double OutsideSeconds, double BenchmarkCpu, double PostgresCpu)
{
    /// <summary>Every shard job's phases, whichever worker ran it.</summary>
    private IEnumerable<IReadOnlyDictionary<CachePhase, double>> Jobs => Phases.SelectMany(w => w);

    /// <summary>Sum over the shard jobs of one phase.</summary>
    public double Total(CachePhase phase) => Jobs.Sum(p => p[phase]);

    /// <summary>
    /// What each worker's first job cost beyond its later ones, averaged over the workers: the inputs,
    /// samples and teacher it alone paid, plus its cache phase beyond the median of the later jobs'
    /// (a fresh process's first forward pass). Two workers pay it at once, so it does not shrink with more workers.
    /// </summary>
    public (double Fixed, double FirstPass) StartUp()
    {
        var workers = Phases.Where(w => w.Count >= 2).ToList();
        return (workers.Average(w => w[0][CachePhase.Inputs] + w[0][CachePhase.Samples] + w[0][CachePhase.Teacher]),
            workers.Average(w => w[0][CachePhase.Cache] - BenchmarkReport.Median(w.Skip(1).Select(p => p[CachePhase.Cache]))));
    }

    /// <summary>The seconds of the jobs' stages (claim to completion) that none of their phases account for.</summary>
    public static double Outside(IReadOnlyList<StageRecord> stages, IReadOnlyList<IReadOnlyList<IReadOnlyDictionary<CachePhase, double>>> phases) =>
        stages.Sum(s => (s.FinishedAt!.Value - s.StartedAt!.Value).TotalSeconds) - phases.Sum(w => w.Sum(p => p.Values.Sum()));

    /// <summary>From the stage rows: each worker's seconds from the first claim of any worker to its own first claim, plus its gaps between jobs.</summary>
    public static double Idle(IReadOnlyList<StageRecord> stages)
    {
        var first = stages.Min(s => s.StartedAt!.Value);
        return stages.GroupBy(s => s.Worker).Sum(w =>
        {
            var ordered = w.OrderBy(s => s.StartedAt).ToList();
            var idle = (ordered[0].StartedAt!.Value - first).TotalSeconds;
            for (var i = 1; i < ordered.Count; i++) idle += (ordered[i].StartedAt!.Value - ordered[i - 1].FinishedAt!.Value).TotalSeconds;
            return idle;
        });
    }
}

/// <summary>CPU seconds used so far by this process and by a PostgreSQL server (its postmaster, its live backends and the exited ones it reaped).</summary>
public sealed class CpuMeter(string postgresDataDirectory)
{
    private static readonly double Tick = 100.0;   // USER_HZ on Linux

    public (double Benchmark, double Postgres) Now()
    {
        var postmaster = int.Parse(File.ReadLines(Path.Combine(postgresDataDirectory, "postmaster.pid")).First());
        var postgres = Fields(postmaster) is { } own ? (own[13] + own[14] + own[15] + own[16]) / Tick : 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
            if (int.TryParse(Path.GetFileName(dir), out var pid) && Fields(pid) is { } f && f[3] == postmaster) postgres += (f[13] + f[14]) / Tick;
        return (Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds, postgres);
    }

    /// <summary>/proc/PID/stat as numbers, field n (1-based in proc(5)) at index n - 1; null once the process is gone.</summary>
    private static long[]? Fields(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var rest = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');   // the command name may hold spaces
            return [pid, 0, .. rest.Select(x => long.TryParse(x, out var v) ? v : 0)];
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }
}

/// <summary>Collects the phase lines the worker processes print, one per shard job, per worker in the order it ran them.</summary>
public sealed class PhaseLines(int workers)
{
    private readonly ConcurrentQueue<IReadOnlyDictionary<CachePhase, double>>[] _lines = [.. Enumerable.Range(0, workers).Select(_ => new ConcurrentQueue<IReadOnlyDictionary<CachePhase, double>>())];

    public void Offer(int worker, string line)
    {
        if (PhaseClock.Parse(line) is { } phases) _lines[worker].Enqueue(phases);
    }

    public int Count => _lines.Sum(w => w.Count);

    public IReadOnlyList<IReadOnlyList<IReadOnlyDictionary<CachePhase, double>>> Take() => [.. _lines.Select(w => (IReadOnlyList<IReadOnlyDictionary<CachePhase, double>>)[.. w])];
}
