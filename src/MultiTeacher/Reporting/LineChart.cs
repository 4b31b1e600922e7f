using System.Globalization;
using System.Text;
using static System.Net.WebUtility;

namespace MultiTeacher.Reporting;

/// <summary>One named series of (x, y) points.</summary>
public sealed record Series(string Name, IReadOnlyList<(double X, double Y)> Points);

/// <summary>A line chart drawn server-side as SVG: axes with ticks and units, one coloured line per series, a legend.</summary>
public static class LineChart
{
    public static readonly string[] Palette = TeacherPalette.Colours;
    private const int Width = 520, Height = 250, Left = 62, Right = 12, Top = 28, Bottom = 42;

    public static string Render(string title, string xLabel, string yLabel, IReadOnlyList<Series> series)
    {
        var points = series.SelectMany(s => s.Points).Where(p => double.IsFinite(p.Y)).ToList();
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" data-points=\"{points.Count}\" role=\"img\" aria-label=\"{HtmlEncode(title)}\">");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Width / 2}\" y=\"16\" text-anchor=\"middle\" font-weight=\"bold\" font-size=\"13\">{HtmlEncode(title)}</text>");
        if (points.Count == 0)
            return svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Width / 2}\" y=\"{Height / 2}\" text-anchor=\"middle\" fill=\"#888\">no data yet</text></svg>").ToString();
        var (x0, x1) = Range(points.Select(p => p.X));
        var (y0, y1) = Range(points.Select(p => p.Y));
        double Px(double x) => Left + (x - x0) / (x1 - x0) * (Width - Left - Right);
        double Py(double y) => Height - Bottom - (y - y0) / (y1 - y0) * (Height - Top - Bottom);
        svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" y1=\"{Height - Bottom}\" x2=\"{Width - Right}\" y2=\"{Height - Bottom}\" stroke=\"#333\"/>");
        svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" y1=\"{Top}\" x2=\"{Left}\" y2=\"{Height - Bottom}\" stroke=\"#333\"/>");
        for (var i = 0; i <= 4; i++)
        {
            var x = x0 + (x1 - x0) * i / 4;
            var y = y0 + (y1 - y0) * i / 4;
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Px(x):F1}\" y=\"{Height - Bottom + 14}\" text-anchor=\"middle\" font-size=\"10\">{Tick(x)}</text>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left - 4}\" y=\"{Py(y) + 3:F1}\" text-anchor=\"end\" font-size=\"10\">{Tick(y)}</text>");
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" y1=\"{Py(y):F1}\" x2=\"{Width - Right}\" y2=\"{Py(y):F1}\" stroke=\"#eee\"/>");
        }
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{(Left + Width - Right) / 2}\" y=\"{Height - 6}\" text-anchor=\"middle\" font-size=\"11\">{HtmlEncode(xLabel)}</text>");
        svg.Append(CultureInfo.InvariantCulture, $"<text transform=\"translate(13 {(Top + Height - Bottom) / 2}) rotate(-90)\" text-anchor=\"middle\" font-size=\"11\">{HtmlEncode(yLabel)}</text>");
        for (var k = 0; k < series.Count; k++)
        {
            var colour = Palette[k % Palette.Length];
            var line = string.Join(' ', series[k].Points.Where(p => double.IsFinite(p.Y)).Select(p => string.Create(CultureInfo.InvariantCulture, $"{Px(p.X):F1},{Py(p.Y):F1}")));
            svg.Append(CultureInfo.InvariantCulture, $"<polyline class=\"series\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.6\" points=\"{line}\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{Width - Right - 130}\" y=\"{Top + 4 + 14 * k}\" width=\"10\" height=\"3\" fill=\"{colour}\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Width - Right - 116}\" y=\"{Top + 9 + 14 * k}\" font-size=\"10\">{HtmlEncode(series[k].Name)}</text>");
        }
        return svg.Append("</svg>").ToString();
    }

    private static (double, double) Range(IEnumerable<double> values)
    {
        var list = values.ToList();
        var (lo, hi) = (list.Min(), list.Max());
        if (hi - lo < 1e-12) (lo, hi) = (lo - 0.5, hi + 0.5);
        return (lo, hi);
    }

    private static string Tick(double v) => Math.Abs(v) >= 1000 ? v.ToString("N0", CultureInfo.InvariantCulture) : v.ToString("G3", CultureInfo.InvariantCulture);
}
