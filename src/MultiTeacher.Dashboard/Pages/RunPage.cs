using System.Globalization;
using MultiTeacher.Jobs;
using MultiTeacher.Lineage;
using static MultiTeacher.Dashboard.Html;
using MultiTeacher.Runs;

namespace MultiTeacher.Dashboard.Pages;

/// <summary>One run: recipe, stage timeline, live plots, evaluation, inputs and outputs, audits, cancel.</summary>
public static class RunPage
{
    public static string Render(LineageStore store, long runId, string? antiforgeryField)
    {
        var run = store.Run(runId)!;
        var live = !run.Status.IsFinished();
        var stages = store.Stages(runId);
        var body = $"<p>status <b>{Status(run.Status)}</b> · recipe <b>{E(run.Recipe)}</b> · {run.Steps} steps"
            + (run.Error is { } error && run.Status != RunStatus.Failed ? $" · <span class=\"status-failed\">{E(error)}</span>" : "") + "</p>";
        if (run.Status == RunStatus.Failed)
            body += $"<h2>Why it failed</h2><div id=\"failure\" class=\"failure\">{E(run.Error ?? "no reason was recorded")}"
                + (run.Failure is { } kind ? $" <i>({E(Spelling.Of(kind))})</i>" : "") + "</div>";
        if (live && antiforgeryField is not null)
            body += $"<form method=\"post\" action=\"/runs/{runId}/cancel\">{antiforgeryField}<button id=\"cancel\">Cancel run</button></form>";
        body += $"<p><a href=\"/runs/{runId}/lineage\">lineage graph</a> · <a href=\"/runs/{runId}/contribution\">teacher contribution</a></p>";
        body += "<h2>Stages</h2>" + Table(["stage", "name", "status", "started", "finished", "seconds", "executions", "worker"], stages.Select(s => new[]
        {
            E(Spelling.Of(s.Kind)), E(s.Name), Status(s.Status), E(s.StartedAt?.ToString("HH:mm:ss")), E(s.FinishedAt?.ToString("HH:mm:ss")),
            s.StartedAt is { } a && s.FinishedAt is { } b ? (b - a).TotalSeconds.ToString("F1", CultureInfo.InvariantCulture) : "",
            s.Attempts.ToString(CultureInfo.InvariantCulture), E(s.Worker),
        }), "stages");
        var metrics = store.MetricSummary(runId);
        var hasMetrics = metrics.Count > 0;
        // A run that failed before training has no curves: its reason above says why, not a page of empty charts.
        if (hasMetrics || !run.Status.IsFinished())
            body += $"<h2>Training</h2><div id=\"plots\" class=\"charts\" data-run=\"{runId}\"></div>";
        var evaluation = metrics.Where(m => MetricNames.Member(m.Name, MetricNames.BitsPerByteGroup) is not null).ToList();
        if (evaluation.Count > 0)
            body += "<h2>Held-out bits per byte</h2>" + Table(["model", "bits/byte"],
                evaluation.Select(m => new[] { E(MetricNames.Member(m.Name, MetricNames.BitsPerByteGroup)), m.Last.ToString("F4", CultureInfo.InvariantCulture) }), "evaluation");
        if (metrics.FirstOrDefault(m => m.Name == MetricNames.Top1Agreement) is { Name: not null } top1)
            body += $"<p>student vs blended teachers on held-out text: top-1 agreement {top1.Last:P1}, KL {metrics.First(m => m.Name == MetricNames.BlendKl).Last:F4} nats</p>";
        body += "<h2>Inputs and outputs</h2>" + Table(["", "role", "kind", "sha256", "bytes", "path"], store.Artifacts(runId).Select(a => new[]
        {
            E(a.Direction), E(a.Role), E(a.Kind), $"<code>{E(a.Sha256[..16])}</code>", a.SizeBytes.ToString("N0", CultureInfo.InvariantCulture), E(a.Path),
        }), "artifacts");
        var audits = store.Audits(runId);
        body += "<h2>Audits</h2>" + (audits.Count == 0 ? $"<p>none yet: <code>mt audit {runId}</code></p>"
            : Table(["audit", "verdict", "when", "reason"], audits.Select(a => new[] { a.Id.ToString(CultureInfo.InvariantCulture), E(a.Verdict), E($"{a.At:yyyy-MM-dd HH:mm:ss}"), E(a.Reason) }), "audits"));
        body += $"<h2>Resolved recipe</h2><pre id=\"recipe\">{E(store.ResolvedRecipe(runId))}</pre>";
        // While the run is live the charts refresh from the lineage tables every few seconds.
        var script = hasMetrics || !run.Status.IsFinished()
            ? $"MTCharts.load(document.getElementById('plots'), '/runs/{runId}/charts.json', {(live ? 3000 : 0)});" : null;
        return Page($"Run {runId}", body, script, WebAssets.Tags(charts: true));
    }
}
