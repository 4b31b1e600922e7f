namespace MultiTeacher.Dashboard.Charts;

/// <summary>How a chart draws its series: lines over steps, or bars over named categories.</summary>
public enum ChartKind { Line, Bars }

/// <summary>One line (or set of bars) of a chart: values aligned with the chart's x values, null where the series has no point.</summary>
public sealed record ChartSeries(string Label, string Colour, IReadOnlyList<double?> Values, IReadOnlyList<int>? Dash = null, string? Teacher = null);

/// <summary>
/// One chart as the browser's charting library draws it: x values shared by every series (steps, or
/// category indices for bars), one y axis of its own with a label and unit.
/// </summary>
public sealed record ChartData(string Id, string Title, string XLabel, string YLabel, ChartKind Kind, IReadOnlyList<double> X,
    IReadOnlyList<ChartSeries> Series, IReadOnlyList<string>? Categories = null)
{
    /// <summary>Aligns several step series on the union of their steps, as one chart whose lines share an x axis.</summary>
    public static ChartData Lines(string id, string title, string yLabel, IReadOnlyList<(string Label, string Colour, IReadOnlyList<(int Step, double Value)> Points, IReadOnlyList<int>? Dash, string? Teacher)> lines)
    {
        var steps = lines.SelectMany(l => l.Points.Select(p => p.Step)).Distinct().Order().ToList();
        var position = steps.Select((s, i) => (s, i)).ToDictionary(x => x.s, x => x.i);
        var series = lines.Select(l =>
        {
            var values = new double?[steps.Count];
            foreach (var (step, value) in l.Points) values[position[step]] = double.IsFinite(value) ? value : null;
            return new ChartSeries(l.Label, l.Colour, values, l.Dash, l.Teacher);
        }).ToList();
        return new ChartData(id, title, "step", yLabel, ChartKind.Line, [.. steps.Select(s => (double)s)], series);
    }

    /// <summary>Bars over named categories; each series has one value per category (null where it has none).</summary>
    public static ChartData Bars(string id, string title, string yLabel, IReadOnlyList<string> categories, IReadOnlyList<ChartSeries> series) =>
        new(id, title, "", yLabel, ChartKind.Bars, [.. Enumerable.Range(0, categories.Count).Select(i => (double)i)], series, categories);
}
