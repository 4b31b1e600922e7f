using MultiTeacher.Lineage;
using MultiTeacher.Reporting;
using MultiTeacher.Runs;

namespace MultiTeacher.Dashboard.Charts;

/// <summary>One run's downsampled metric series, as the charts read them.</summary>
public sealed record RunSeries(long RunId, IReadOnlyDictionary<string, IReadOnlyList<(int Step, double Value)>> Series)
{
    /// <summary>Points per chart line: about one per horizontal pixel of a chart.</summary>
    public const int ChartPoints = 400;

    public static RunSeries Read(LineageStore store, long runId) => new(runId, store.MetricSeries(runId, ChartPoints));
}

/// <summary>
/// The training charts of one run, or of several overlaid: every loss component on its own axes,
/// per-teacher series in the teacher's colour (runs told apart by dash), learning rate, gradient
/// norm, throughput, and held-out bits per byte as bars.
/// </summary>
public static class RunCharts
{
    private static readonly (string Metric, string Title, string YLabel)[] Singles =
    [
        (MetricNames.Loss, "Loss", "nats per token"),
        (MetricNames.HardLabelCe, "Hard-label cross-entropy", "nats per token"),
        (MetricNames.Distillation, "Distillation term", "nats per token"),
        (MetricNames.LearningRate, "Learning rate", "learning rate"),
        (MetricNames.GradNorm, "Gradient norm", "L2 norm of the gradient"),
        (MetricNames.TokensPerSecond, "Throughput", "tokens per second"),
        (MetricNames.EvalBitsPerByte, "Held-out bits per byte during training", "bits per byte"),
    ];

    private static readonly (string Group, string Title, string YLabel)[] PerTeacher =
    [
        (MetricNames.TermGroup, "Distillation term per teacher", "nats per token"),
        (MetricNames.WeightGroup, "Mixing weight per teacher", "mean weight"),
        (MetricNames.TextBitsPerByteGroup, "Teacher bits per byte on the training text", "bits per byte"),
        (MetricNames.MergedGroup, "Share of ALM chunks merged by γ", "share"),
        (MetricNames.MarginalizedGroup, "Target mass given to longer readings of the last token", "share"),
        (MetricNames.CoverageGroup, "Alignment coverage per teacher", "aligned / all positions"),
    ];

    /// <summary>Run colours for lines that belong to no teacher when runs are overlaid (kept apart from teacher colours by being dark or muted).</summary>
    private static readonly string[] RunColours = ["#222222", "#e6550d", "#3182bd", "#31a354", "#756bb1", "#969696"];

    /// <summary>Dash patterns that tell overlaid runs apart on per-teacher charts: the first run solid.</summary>
    private static readonly int[]?[] RunDashes = [null, [6, 4], [2, 3], [10, 3, 2, 3], [1, 6]];

    public static IReadOnlyList<ChartData> Build(IReadOnlyList<RunSeries> runs, TeacherPalette palette)
    {
        var overlay = runs.Count > 1;
        string RunLabel(RunSeries r, string what) => overlay ? $"run {r.RunId} · {what}" : what;
        var charts = new List<ChartData>();
        foreach (var (metric, title, yLabel) in Singles)
        {
            var lines = runs.Select((r, k) => (r, k)).Where(x => x.r.Series.ContainsKey(metric))
                .Select(x => (RunLabel(x.r, metric), overlay ? RunColours[x.k % RunColours.Length] : TeacherPalette.Neutral, x.r.Series[metric], (IReadOnlyList<int>?)null, (string?)null))
                .ToList();
            if (lines.Count > 0) charts.Add(ChartData.Lines(metric, title, yLabel, lines));
        }
        foreach (var (group, title, yLabel) in PerTeacher)
        {
            var lines = runs.SelectMany((r, k) => r.Series.Keys.Order(StringComparer.Ordinal)
                    .Select(name => MetricNames.Member(name, group) is { } teacher
                        ? (RunLabel(r, teacher), palette.Colour(teacher), r.Series[name], (IReadOnlyList<int>?)RunDashes[k % RunDashes.Length], (string?)teacher)
                        : default)
                    .Where(l => l.Item3 is not null))
                .ToList();
            if (lines.Count > 0) charts.Add(ChartData.Lines(group.TrimEnd('/'), title, yLabel, lines));
        }
        if (HeldOut(runs, palette) is { } bars) charts.Add(bars);
        return charts;
    }

    /// <summary>Held-out bits per byte per model (student, teachers, genres) from each run's last value; one bar colour per teacher.</summary>
    private static ChartData? HeldOut(IReadOnlyList<RunSeries> runs, TeacherPalette palette)
    {
        var categories = runs.SelectMany(r => r.Series.Keys).Select(n => MetricNames.Member(n, MetricNames.BitsPerByteGroup)).OfType<string>()
            .Distinct().Order(StringComparer.Ordinal).ToList();
        if (categories.Count == 0) return null;
        double? Last(RunSeries r, string member) => r.Series.TryGetValue(MetricNames.BitsPerByteGroup + member, out var points) && points.Count > 0 ? points[^1].Value : null;
        if (runs.Count > 1)
        {
            // Overlaid runs get a bar each, side by side: one category per model and run, one series (colour) per run.
            var labels = categories.SelectMany(c => runs.Select(r => $"{c}\nrun {r.RunId}")).ToList();   // two lines under each bar
            return ChartData.Bars("bpb", "Held-out bits per byte (lower is better)", "bits per byte", labels, [.. runs.Select((r, k) =>
                new ChartSeries($"run {r.RunId}", RunColours[k % RunColours.Length],
                    [.. labels.Select((_, j) => j % runs.Count == k ? Last(r, categories[j / runs.Count]) : null)]))]);
        }
        IReadOnlyList<ChartSeries> series = [.. categories.Select((c, i) =>
        {
            var teacher = TeacherOf(c);
            return new ChartSeries(c, teacher is null ? TeacherPalette.Neutral : palette.Colour(teacher),
                [.. categories.Select((_, j) => j == i ? Last(runs[0], c) : null)], Teacher: teacher);
        })];
        return ChartData.Bars("bpb", "Held-out bits per byte (lower is better)", "bits per byte", categories, series);
    }

    private static string? TeacherOf(string bitsPerByteMember) => MetricNames.Member(bitsPerByteMember, "teacher/");
}
