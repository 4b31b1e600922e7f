using System.Diagnostics;
using System.Globalization;
using MultiTeacher.Data;
using MultiTeacher.Models;
using MultiTeacher.Recipes;
using MultiTeacher.Teachers;
using MultiTeacher.Tokenization;
using static TorchSharp.torch;

namespace MultiTeacher.Benchmarks;

/// <summary>
/// What two cores give this machine's teacher caching with no job system at all: the scale-out
/// benchmark's teacher caching one shard's texts over and over (`TeacherCaches.Build`, one thread) in
/// one process pinned to a CPU alone, then in two such processes at once, one per CPU. The ratio of
/// the two processes' throughput to the one's bounds what two workers can reach, whatever the
/// queue, the database and the workers do.
/// </summary>
public static class ScaleOutCeiling
{
    public const string Flag = "--caching-child";
    private const int PassCount = 7;

    /// <summary>2 × (one process's median pass alone) / (the pair's median pass), both processes' passes pooled.</summary>
    public static (double Ceiling, double Alone, double Paired) Measure(string recipe)
    {
        var alone = Passes(recipe, [0]).Single();
        var paired = Passes(recipe, [0, 1]).SelectMany(p => p).ToList();
        var (a, p) = (BenchmarkReport.Median(alone), BenchmarkReport.Median(paired));
        return (2 * a / p, a, p);
    }

    /// <summary>Per process, the seconds of each pass after the first (warm-up).</summary>
    private static List<double>[] Passes(string recipe, int[] cpus)
    {
        var processes = cpus.Select(cpu =>
        {
            var start = new ProcessStartInfo("taskset", ["-c", cpu.ToString(CultureInfo.InvariantCulture), Environment.ProcessPath!, Flag, recipe])
            {
                RedirectStandardOutput = true, UseShellExecute = false,
            };
            start.Environment["OMP_NUM_THREADS"] = "1";
            start.Environment["MKL_NUM_THREADS"] = "1";
            return Process.Start(start)!;
        }).ToList();
        var outputs = processes.Select(p => p.StandardOutput.ReadToEndAsync()).ToArray();
        foreach (var p in processes) p.WaitForExit();
        if (processes.FirstOrDefault(p => p.ExitCode != 0) is { } failed) throw new InvalidOperationException($"caching child failed ({failed.ExitCode})");
        return outputs.Select(o => o.Result.Trim().Split('\n')[^1].Split(' ').Select(x => double.Parse(x, CultureInfo.InvariantCulture)).Skip(1).ToList()).ToArray();
    }

    /// <summary>The child: caches the recipe's first shard of samples <see cref="PassCount"/> times on one thread, printing each pass's seconds.</summary>
    public static int RunChild(string[] args)
    {
        set_num_threads(1);
        var recipe = RecipeLoader.Load(args[1]);
        var tokenizer = HfTokenizer.FromDirectory(recipe.Student.TokenizerDirectory);
        var samples = TrainingSamples.ForRecipe(recipe.Data, tokenizer);
        var texts = samples.Samples.Take(recipe.Train.CacheShardTokens / recipe.Data.SequenceLength).Select(s => s.Text).ToList();
        var teacher = recipe.Teachers.Single();
        using var model = PretrainedModel.Load(teacher.Path);
        var teacherTokenizer = HfTokenizer.FromDirectory(teacher.Path);
        var path = Path.Combine(Path.GetTempPath(), $"mt-bench-ceiling-{Environment.ProcessId}.mtcache");
        var seconds = new List<double>();
        try
        {
            for (var pass = 0; pass < PassCount; pass++)
            {
                var clock = Stopwatch.StartNew();
                TeacherCaches.Build(model, teacherTokenizer, texts, recipe.Alignment.TopK, "ceiling", path);
                seconds.Add(clock.Elapsed.TotalSeconds);
            }
        }
        finally { File.Delete(path); }
        BenchmarkChild.Report([.. seconds]);
        return 0;
    }
}
