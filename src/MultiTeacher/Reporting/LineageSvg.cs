using System.Globalization;
using System.Text;
using MultiTeacher.Lineage;
using static System.Net.WebUtility;
using MultiTeacher.Runs;

namespace MultiTeacher.Reporting;

/// <summary>
/// The lineage around one run as a left-to-right DAG: runs that produced its inputs, its inputs,
/// the run, its outputs, and runs that used those outputs. Runs link to their pages.
/// </summary>
public static class LineageSvg
{
    private sealed record Node(string Id, string Label, string Sub, long? Run, int Column);

    private const int ColumnWidth = 230, BoxWidth = 200, BoxHeight = 38, RowHeight = 50, Margin = 16;

    public static string Render(LineageStore store, long runId)
    {
        var run = store.Run(runId)!;
        var nodes = new List<Node> { new($"run{runId}", $"run {runId}: {run.Recipe}", Spelling.Of(run.Status), runId, 2) };
        var edges = new List<(string From, string To)>();
        foreach (var a in store.Artifacts(runId))
        {
            var id = $"{a.Direction}:{a.Role}";
            var used = a.Direction == "used";
            nodes.Add(new Node(id, $"{a.Role}", $"{a.Kind} {a.Sha256[..12]}", null, used ? 1 : 3));
            edges.Add(used ? (id, $"run{runId}") : ($"run{runId}", id));
            var related = used ? store.ProducersOf(a.Sha256, a.Path) : store.ConsumersOf(a.Sha256, a.Path);
            foreach (var other in related.Where(r => r != runId))
            {
                var otherId = $"run{other}";
                if (nodes.All(n => n.Id != otherId))
                    nodes.Add(new Node(otherId, $"run {other}: {store.Run(other)?.Recipe}", store.Run(other) is { } o ? Spelling.Of(o.Status) : "", other, used ? 0 : 4));
                edges.Add(used ? (otherId, id) : (id, otherId));
            }
        }
        var rows = nodes.GroupBy(n => n.Column).ToDictionary(g => g.Key, g => g.ToList());
        var height = Margin * 2 + RowHeight * rows.Values.Max(r => r.Count);
        var position = new Dictionary<string, (double X, double Y)>();
        foreach (var (column, list) in rows)
            for (var i = 0; i < list.Count; i++)
                position[list[i].Id] = (Margin + column * ColumnWidth, Margin + i * RowHeight + (height - 2 * Margin - list.Count * RowHeight) / 2.0);
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg id=\"lineage\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{Margin * 2 + 5 * ColumnWidth}\" height=\"{height}\" font-size=\"11\">");
        svg.Append("<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"6\" markerHeight=\"6\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#666\"/></marker></defs>");
        foreach (var (from, to) in edges.Distinct())
        {
            var (fx, fy) = position[from];
            var (tx, ty) = position[to];
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{fx + BoxWidth:F0}\" y1=\"{fy + BoxHeight / 2.0:F0}\" x2=\"{tx:F0}\" y2=\"{ty + BoxHeight / 2.0:F0}\" stroke=\"#666\" marker-end=\"url(#arrow)\"/>");
        }
        foreach (var n in nodes)
        {
            var (x, y) = position[n.Id];
            var box = string.Create(CultureInfo.InvariantCulture,
                $"<g class=\"node {(n.Run is null ? "artifact" : "run")}\"><rect x=\"{x:F0}\" y=\"{y:F0}\" width=\"{BoxWidth}\" height=\"{BoxHeight}\" rx=\"{(n.Run is null ? 2 : 10)}\" fill=\"{(n.Run == runId ? "#fde9b8" : n.Run is null ? "#eef3fb" : "#e6f4ea")}\" stroke=\"#555\"/>" +
                $"<text x=\"{x + 6:F0}\" y=\"{y + 15:F0}\">{HtmlEncode(Clip(n.Label))}</text><text x=\"{x + 6:F0}\" y=\"{y + 30:F0}\" fill=\"#555\">{HtmlEncode(Clip(n.Sub))}</text></g>");
            svg.Append(n.Run is { } r ? $"<a href=\"/runs/{r}\">{box}</a>" : box);
        }
        return svg.Append("</svg>").ToString();
    }

    private static string Clip(string s) => s.Length <= 32 ? s : s[..31] + "…";
}
