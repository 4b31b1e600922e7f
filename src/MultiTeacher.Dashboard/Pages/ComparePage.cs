using System.Globalization;
using MultiTeacher.Lineage;
using MultiTeacher.Runs;
using static MultiTeacher.Dashboard.Html;

namespace MultiTeacher.Dashboard.Pages;

/// <summary>Two or more runs side by side: their curves overlaid on shared charts and their evaluations in one table.</summary>
public static class ComparePage
{
    /// <summary>The runs named by ?run=ID (repeated), in the order given; a clear message when fewer than two exist.</summary>
    public static IReadOnlyList<RunSummary> Runs(LineageStore store, IEnumerable<string?> ids, out string? problem)
    {
        var runs = new List<RunSummary>();
        foreach (var text in ids.Distinct())
        {
            if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id) || store.Run(id) is not { } run)
            {
                problem = $"'{text}' is not a run id";
                return [];
            }
            runs.Add(run);
        }
        problem = runs.Count < 2 ? "pick two or more runs to compare (tick them in the runs table)" : null;
        return runs;
    }

    public static string Render(LineageStore store, IReadOnlyList<RunSummary> runs)
    {
        var now = DateTime.UtcNow;
        var body = Table(["run", "status", "recipe", "student", "steps", "duration"], runs.Select(r => new[]
        {
            $"<a href=\"/runs/{r.Id}\">{r.Id}</a>", Status(r.Status), E(r.Recipe), E(RunFacts.StudentName(store.ResolvedRecipe(r.Id))),
            r.Steps.ToString(CultureInfo.InvariantCulture), E(RunFacts.Format(RunFacts.Duration(r, now))),
        }), "compared");
        var summaries = runs.Select(r => store.MetricSummary(r.Id).ToDictionary(m => m.Name, m => m.Last, StringComparer.Ordinal)).ToList();
        var rows = summaries.SelectMany(s => s.Keys)
            .Where(n => MetricNames.Member(n, MetricNames.BitsPerByteGroup) is not null || n is MetricNames.Top1Agreement or MetricNames.BlendKl)
            .Distinct().Order(StringComparer.Ordinal).ToList();
        body += "<h2>Evaluation</h2>" + (rows.Count == 0 ? "<p>none of these runs has been evaluated</p>"
            : Table(["metric", .. runs.Select(r => $"run {r.Id}")], rows.Select(n => (IEnumerable<string>)
                [E(n), .. summaries.Select(s => s.TryGetValue(n, out var v) ? v.ToString("F4", CultureInfo.InvariantCulture) : "")]), "evaluation"));
        var query = string.Join("&", runs.Select(r => $"run={r.Id}"));
        body += "<h2>Training</h2><p>Per-teacher lines keep the teacher's colour; the runs are told apart by dash (first run solid).</p>"
            + "<div id=\"plots\" class=\"charts\"></div>";
        return Page($"Compare runs {string.Join(", ", runs.Select(r => r.Id))}", body,
            $"MTCharts.load(document.getElementById('plots'), '/compare/charts.json?{query}', 0);", WebAssets.Tags(charts: true));
    }
}
