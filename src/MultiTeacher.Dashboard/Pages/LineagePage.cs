using MultiTeacher.Lineage;
using MultiTeacher.Reporting;

namespace MultiTeacher.Dashboard.Pages;

/// <summary>The lineage graph around a run, several hops each way, laid out in the browser by dagre from <see cref="Graph"/>.</summary>
public static class LineagePage
{
    /// <summary>Runs this many hops upstream and downstream are drawn.</summary>
    public const int Hops = 3;

    public static string Render(long runId) => Html.Page($"Run {runId}: lineage",
        $"<p>Earlier on the left: the runs and inputs that made this run (up to {Hops} runs back), and what used its outputs. "
        + "Click a run to open it; a teacher's cache is linked (dashed) to the teacher it was computed from, both outlined in that teacher's colour.</p>"
        + "<div id=\"graph\"></div>",
        $"MTLineage.load(document.getElementById('graph'), '/runs/{runId}/lineage.json');", WebAssets.Tags(lineage: true));

    /// <summary>The graph as the page's script reads it: nodes (with the teacher colour where they belong to a teacher) and edges.</summary>
    public static object Graph(LineageStore store, long runId)
    {
        var graph = new LineageDag(store, Hops).Build(runId);
        var palette = new TeacherPalette(store.TeacherNames());
        return new
        {
            run = graph.Run,
            nodes = graph.Nodes.Select(n => new { n.Id, n.Kind, n.Label, n.Detail, n.Run, n.Teacher, n.Status, Colour = n.Teacher is { } t ? palette.Colour(t) : null }),
            edges = graph.Edges,
        };
    }
}
