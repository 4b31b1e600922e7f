using System.Globalization;
using MultiTeacher.Lineage;
using static MultiTeacher.Dashboard.Html;
using MultiTeacher.Runs;

namespace MultiTeacher.Dashboard.Pages;

/// <summary>
/// All runs: status (and why a failed one failed), recipe, student, teachers, steps, best held-out
/// bits per byte, creation time and duration; filter by status, search by name, sort by any column,
/// tick runs to compare them.
/// </summary>
public static class RunsPage
{
    /// <summary>The newest runs the table shows.</summary>
    public const int Limit = 500;

    public static string Render(LineageStore store, string? status, string? query)
    {
        var now = DateTime.UtcNow;
        var runs = store.Runs(Limit)
            .Where(r => string.IsNullOrEmpty(status) || Spelling.Of(r.Status) == status)
            .Where(r => string.IsNullOrEmpty(query) || r.Recipe.Contains(query, StringComparison.OrdinalIgnoreCase))
            .ToList();
        var rows = runs.Select(r =>
        {
            var teachers = store.Artifacts(r.Id).Select(a => ArtifactRoles.TeacherOf(a.Role)).OfType<string>();
            var best = store.MetricSummary(r.Id).Where(m => m.Name is MetricNames.StudentBitsPerByte or MetricNames.EvalBitsPerByte).Select(m => m.Min).DefaultIfEmpty(double.NaN).Min();
            var duration = RunFacts.Duration(r, now);
            var why = r.Status == RunStatus.Failed && r.Error is { } error ? $"<div class=\"why\">{E(error)}</div>" : "";
            return new[]
            {
                $"<input type=\"checkbox\" name=\"run\" value=\"{r.Id}\" aria-label=\"compare run {r.Id}\">",
                Sorted(r.Id.ToString(CultureInfo.InvariantCulture), $"<a href=\"/runs/{r.Id}\">{r.Id}</a>"),
                Sorted(Spelling.Of(r.Status), Status(r.Status) + why), E(r.Recipe),
                E(RunFacts.StudentName(store.ResolvedRecipe(r.Id))), E(string.Join(", ", teachers)), r.Steps.ToString(CultureInfo.InvariantCulture),
                double.IsNaN(best) ? "" : best.ToString("F4", CultureInfo.InvariantCulture),
                E($"{r.CreatedAt:yyyy-MM-dd HH:mm:ss}"),
                Sorted(duration.TotalSeconds.ToString("F0", CultureInfo.InvariantCulture), E(RunFacts.Format(duration))),
            };
        });
        string[] statuses = ["", .. Spelling.All<RunStatus>()];
        var form = $"""
            <form method="get" action="/">
              <label>status <select name="status">{string.Concat(statuses.Select(s => $"<option value=\"{s}\"{(s == (status ?? "") ? " selected" : "")}>{(s == "" ? "any" : s)}</option>"))}</select></label>
              <label>name <input name="q" value="{E(query)}"></label> <button>filter</button>
            </form>
            """;
        var table = Table(["", "run", "status", "recipe", "student", "teachers", "steps", "best held-out bits/byte", "created", "duration"], rows, "runs")
            .Replace("<th></th>", "<th data-nosort></th>");
        return Page("Runs", form + "<p>Click a column to sort by it; tick two or more runs to compare them.</p>"
            + $"<form method=\"get\" action=\"/compare\">{table}<button id=\"compare\">Compare selected runs</button></form>"
            + $"<p>{runs.Count} run(s)</p>", head: WebAssets.Tags(runs: true));
    }

    /// <summary>A cell whose sort key differs from what it shows (a number behind a link, seconds behind "3 min").</summary>
    private static string Sorted(string key, string html) => $"<span data-sort-key=\"{E(key)}\">{html}</span>";
}
