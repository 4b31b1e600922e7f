using System.Globalization;
using MultiTeacher.Lineage;
using static MultiTeacher.Dashboard.Html;
using MultiTeacher.Runs;

namespace MultiTeacher.Dashboard.Pages;

/// <summary>All runs: status, recipe, teachers, student, steps, best held-out bits per byte, times; filter by status, search by name.</summary>
public static class RunsPage
{
    public static string Render(LineageStore store, string? status, string? query)
    {
        store.FailAbandoned();
        var runs = store.Runs(500)
            .Where(r => string.IsNullOrEmpty(status) || Spelling.Of(r.Status) == status)
            .Where(r => string.IsNullOrEmpty(query) || r.Recipe.Contains(query, StringComparison.OrdinalIgnoreCase))
            .ToList();
        var rows = runs.Select(r =>
        {
            var artifacts = store.Artifacts(r.Id);
            var teachers = artifacts.Select(a => ArtifactRoles.TeacherOf(a.Role)).OfType<string>();
            var student = artifacts.FirstOrDefault(a => a.Role is "student.init" or "student.config")?.Path;
            var best = store.MetricSummary(r.Id).Where(m => m.Name is MetricNames.StudentBitsPerByte or MetricNames.EvalBitsPerByte).Select(m => m.Min).DefaultIfEmpty(double.NaN).Min();
            return new[]
            {
                $"<a href=\"/runs/{r.Id}\">{r.Id}</a>", Status(r.Status), E(r.Recipe),
                E(string.Join(", ", teachers)), E(student is null ? "" : Path.GetFileName(student)), r.Steps.ToString(CultureInfo.InvariantCulture),
                double.IsNaN(best) ? "" : best.ToString("F4", CultureInfo.InvariantCulture),
                E($"{r.CreatedAt:yyyy-MM-dd HH:mm:ss}"), E(r.FinishedAt is { } f ? $"{f:HH:mm:ss}" : ""),
            };
        });
        string[] statuses = ["", .. Spelling.All<RunStatus>()];
        var form = $"""
            <form method="get" action="/">
              <label>status <select name="status">{string.Concat(statuses.Select(s => $"<option value=\"{s}\"{(s == (status ?? "") ? " selected" : "")}>{(s == "" ? "any" : s)}</option>"))}</select></label>
              <label>name <input name="q" value="{E(query)}"></label> <button>filter</button>
            </form>
            """;
        return Page("Runs", form + Table(["run", "status", "recipe", "teachers", "student", "steps", "best held-out bits/byte", "created", "finished"], rows, "runs")
            + $"<p>{runs.Count} run(s)</p>");
    }
}
