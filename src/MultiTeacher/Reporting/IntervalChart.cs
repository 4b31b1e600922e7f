using System.Globalization;
using System.Text;
using static System.Net.WebUtility;

namespace MultiTeacher.Reporting;

/// <summary>One row of an interval panel: a label, a point estimate and its confidence interval.</summary>
public sealed record IntervalRow(string Label, double Mean, double Low, double High);

/// <summary>A titled panel of rows (one per model) sharing one x axis.</summary>
public sealed record IntervalPanel(string Title, IReadOnlyList<IntervalRow> Rows, double? Reference = null);

/// <summary>
/// Side-by-side panels of point estimates with confidence intervals (a forest plot), drawn as
/// SVG: rows are labelled once on the left, each panel has its own x axis, and an optional
/// dashed reference line (the baseline's mean).
/// </summary>
public static class IntervalChart
{
    private const int LabelWidth = 170, PanelWidth = 190, Gap = 18, RowHeight = 18, Top = 44, Bottom = 40;

    public static string Render(string title, string xLabel, IReadOnlyList<IntervalPanel> panels)
    {
        var labels = panels[0].Rows.Select(r => r.Label).ToList();
        var width = LabelWidth + panels.Count * (PanelWidth + Gap);
        var height = Top + labels.Count * RowHeight + Bottom;
        var svg = new StringBuilder();
        void Add(FormattableString s) => svg.Append(string.Format(CultureInfo.InvariantCulture, s.Format, s.GetArguments()));
        Add($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" role=\"img\" aria-label=\"{HtmlEncode(title)}\">");
        Add($"<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>");
        Add($"<text x=\"{width / 2}\" y=\"16\" text-anchor=\"middle\" font-weight=\"bold\" font-size=\"13\">{HtmlEncode(title)}</text>");
        for (var i = 0; i < labels.Count; i++)
            Add($"<text x=\"{LabelWidth - 8}\" y=\"{Top + i * RowHeight + RowHeight / 2 + 4}\" text-anchor=\"end\" font-size=\"11\">{HtmlEncode(labels[i])}</text>");
        for (var p = 0; p < panels.Count; p++)
        {
            var panel = panels[p];
            var left = LabelWidth + p * (PanelWidth + Gap);
            var values = panel.Rows.SelectMany(r => new[] { r.Low, r.High }).Append(panel.Reference ?? double.NaN).Where(double.IsFinite).ToList();
            var (x0, x1) = (values.Min(), values.Max());
            var pad = Math.Max(1e-9, (x1 - x0) * 0.08);
            (x0, x1) = (x0 - pad, x1 + pad);
            double Px(double x) => left + (x - x0) / (x1 - x0) * PanelWidth;
            var bottom = Top + labels.Count * RowHeight;
            Add($"<text x=\"{left + PanelWidth / 2}\" y=\"{Top - 10}\" text-anchor=\"middle\" font-size=\"12\" font-weight=\"bold\">{HtmlEncode(panel.Title)}</text>");
            Add($"<rect x=\"{left}\" y=\"{Top}\" width=\"{PanelWidth}\" height=\"{bottom - Top}\" fill=\"none\" stroke=\"#999\"/>");
            for (var t = 1; t <= 3; t++)   // interior ticks only, so neighbouring panels' labels never collide
            {
                var x = x0 + (x1 - x0) * t / 4;
                Add($"<line x1=\"{Px(x):F1}\" y1=\"{Top}\" x2=\"{Px(x):F1}\" y2=\"{bottom}\" stroke=\"#eee\"/>");
                Add($"<text x=\"{Px(x):F1}\" y=\"{bottom + 13}\" text-anchor=\"middle\" font-size=\"10\">{x:F3}</text>");
            }
            if (panel.Reference is { } reference)
                Add($"<line x1=\"{Px(reference):F1}\" y1=\"{Top}\" x2=\"{Px(reference):F1}\" y2=\"{bottom}\" stroke=\"#d62728\" stroke-dasharray=\"4 3\"/>");
            for (var i = 0; i < panel.Rows.Count; i++)
            {
                var r = panel.Rows[i];
                var y = Top + i * RowHeight + RowHeight / 2;
                Add($"<line x1=\"{Px(r.Low):F1}\" y1=\"{y}\" x2=\"{Px(r.High):F1}\" y2=\"{y}\" stroke=\"#1f77b4\" stroke-width=\"1.6\"/>");
                Add($"<circle cx=\"{Px(r.Mean):F1}\" cy=\"{y}\" r=\"3.2\" fill=\"#1f77b4\"><title>{HtmlEncode(r.Label)}: {r.Mean:F4} [{r.Low:F4}, {r.High:F4}]</title></circle>");
            }
            Add($"<text x=\"{left + PanelWidth / 2}\" y=\"{bottom + 28}\" text-anchor=\"middle\" font-size=\"11\">{HtmlEncode(xLabel)}</text>");
        }
        return svg.Append("</svg>").ToString();
    }
}
