using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace MultiTeacher.Benchmarks;

/// <summary>The result of one benchmark: a markdown section whose figures are ratios to a same-run baseline.</summary>
public sealed record BenchmarkSection(string Title, string Markdown);

/// <summary>Keeps docs/benchmarks.md: one marked section per benchmark, replaced on each run.</summary>
public static class BenchmarkReport
{
    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "MultiTeacher.sln"))) return dir.FullName;
        throw new InvalidOperationException("cannot find the repository root (MultiTeacher.sln) above " + AppContext.BaseDirectory);
    }

    public static string Machine() =>
        $"{Environment.ProcessorCount} cores ({CpuModel()}), {RuntimeInformation.OSDescription}, .NET {Environment.Version}, " +
        $"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC";

    private static string CpuModel()
    {
        const string cpuinfo = "/proc/cpuinfo";
        var line = File.Exists(cpuinfo) ? File.ReadLines(cpuinfo).FirstOrDefault(l => l.StartsWith("model name")) : null;
        return line?.Split(':', 2)[1].Trim() ?? RuntimeInformation.ProcessArchitecture.ToString();
    }

    /// <summary>The median (the lower middle of an even count).</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        if (sorted.Count == 0) return double.NaN;
        // An even count has two middle values: their mean, so neither the faster nor the slower run is favoured.
        var half = sorted.Count / 2;
        return sorted.Count % 2 == 1 ? sorted[half] : (sorted[half - 1] + sorted[half]) / 2;
    }

    public static void Update(string path, string name, BenchmarkSection section)
    {
        var begin = $"<!-- bench:{name} -->";
        var end = $"<!-- /bench:{name} -->";
        var block = $"{begin}\n## {section.Title}\n\nMeasured on {Machine()}.\n\n{section.Markdown.Trim()}\n{end}";
        var text = File.Exists(path) ? File.ReadAllText(path) : "# Benchmarks\n\nRegenerate with `scripts/bench.sh`. Every figure is a ratio to a baseline measured in the same run, with the absolute numbers beside it.\n";
        var pattern = new Regex(Regex.Escape(begin) + ".*?" + Regex.Escape(end), RegexOptions.Singleline);
        text = pattern.IsMatch(text) ? pattern.Replace(text, _ => block) : text.TrimEnd() + "\n\n" + block + "\n";
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text, new UTF8Encoding(false));
    }
}
