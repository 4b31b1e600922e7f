using System.Text;
using MultiTeacher.Teachers;

namespace MultiTeacher.Benchmarks;

/// <summary>The scale-out benchmark's account of where the caching time went, 1 worker against 2.</summary>
public static class ScaleOutPhases
{
    public static string Table(IReadOnlyList<ScaleOutMeasurement> ones, IReadOnlyList<ScaleOutMeasurement> twos, int shards)
    {
        var md = new StringBuilder();
        md.AppendLine($"Where the time went, summed over the {shards} shard jobs (median over rounds, seconds): each job's phases from its `phases:` log line, " +
                      "idle = each worker's wait before its first claim (after the first worker's) and between its jobs, outside = the jobs' time outside these phases (claim, recipe, completion), and the CPU seconds the benchmark process (submitting, watching the run) and PostgreSQL used meanwhile.");
        md.AppendLine();
        md.AppendLine("| workers | caching (wall) | inputs | samples | teacher | cache (forward, top-k, write) | outside | idle | benchmark CPU | PostgreSQL CPU |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var (label, runs) in new[] { ("1", ones), ("2", twos) })
            md.AppendLine($"| {label} | {M(runs, m => m.Seconds)} | {M(runs, m => m.Total(CachePhase.Inputs))} | {M(runs, m => m.Total(CachePhase.Samples))} | " +
                          $"{M(runs, m => m.Total(CachePhase.Teacher))} | {M(runs, m => m.Total(CachePhase.Cache))} | {M(runs, m => m.OutsideSeconds)} | {M(runs, m => m.IdleSeconds)} | " +
                          $"{M(runs, m => m.BenchmarkCpu)} | {M(runs, m => m.PostgresCpu)} |");
        md.AppendLine();
        double Median(IReadOnlyList<ScaleOutMeasurement> runs, Func<ScaleOutMeasurement, double> f) => BenchmarkReport.Median(runs.Select(f));
        var (wall1, wall2) = (Median(ones, m => m.Seconds), Median(twos, m => m.Seconds));
        var (cache1, cache2) = (Median(ones, m => m.Total(CachePhase.Cache)), Median(twos, m => m.Total(CachePhase.Cache)));
        var (fixed1, first1) = (Median(ones, m => m.StartUp().Fixed), Median(ones, m => m.StartUp().FirstPass));
        var (fixed2, first2) = (Median(twos, m => m.StartUp().Fixed), Median(twos, m => m.StartUp().FirstPass));
        md.AppendLine($"The speed-up is {wall1 / wall2:F2}x, against a goal of 1.8x. The same shard work costs {cache2 / cache1:F2}x as many CPU-seconds of forward passes on 2 workers as on 1 " +
                      $"({cache2:F1} s against {cache1:F1} s; the two workers share the machine's only two cores with PostgreSQL, the benchmark process and the rest of the machine): " +
                      $"with that ratio alone, 2 workers could reach {2 * cache1 / cache2:F2}x. " +
                      $"Each worker's first job also pays the process's start-up: inputs, samples and teacher ({fixed1:F2} s on 1 worker, {fixed2:F2} s a worker on 2), and a first forward pass slower than the later ones " +
                      $"(its cache phase {first1:F2} s and {first2:F2} s above the median of the worker's later jobs). Two workers pay it at the same time, so it does not shrink with more workers.");
        return md.ToString();
    }

    private static string M(IReadOnlyList<ScaleOutMeasurement> runs, Func<ScaleOutMeasurement, double> f) => BenchmarkReport.Median(runs.Select(f)).ToString("F2");
}
