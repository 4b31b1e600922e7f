using System.Globalization;
using MultiTeacher.Reporting;
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
        store.FailAbandoned();
        var run = store.Run(runId)!;
        var live = !run.Status.IsFinished();
        var stages = store.Stages(runId);
        var body = $"<p>status <b>{Status(run.Status)}</b> · recipe <b>{E(run.Recipe)}</b> · {run.Steps} steps"
            + (run.Error is { } error ? $" · <span class=\"status-failed\">{E(error)}</span>" : "") + "</p>";
        if (live && antiforgeryField is not null)
            body += $"<form method=\"post\" action=\"/runs/{runId}/cancel\">{antiforgeryField}<button id=\"cancel\">Cancel run</button></form>";
        body += $"<p><a href=\"/runs/{runId}/lineage\">lineage graph</a> · <a href=\"/runs/{runId}/contribution\">teacher contribution</a></p>";
        body += "<h2>Stages</h2>" + Table(["stage", "name", "status", "started", "finished", "seconds", "executions", "worker"], stages.Select(s => new[]
        {
            E(Spelling.Of(s.Kind)), E(s.Name), Status(s.Status), E(s.StartedAt?.ToString("HH:mm:ss")), E(s.FinishedAt?.ToString("HH:mm:ss")),
            s.StartedAt is { } a && s.FinishedAt is { } b ? (b - a).TotalSeconds.ToString("F1", CultureInfo.InvariantCulture) : "",
            s.Attempts.ToString(CultureInfo.InvariantCulture), E(s.Worker),
        }), "stages");
        body += $"<h2>Training</h2><div id=\"plots\" class=\"charts\">{Plots(store, runId)}</div>";
        var metrics = store.MetricSummary(runId);
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
        // While the run is live the plots refresh from the lineage tables every few seconds.
        var script = live ? $"setInterval(async () => {{ const r = await fetch('/runs/{runId}/plots'); if (r.ok) document.getElementById('plots').innerHTML = await r.text(); }}, 3000);" : null;
        return Page($"Run {runId}", body, script);
    }

    /// <summary>Points per chart line: about one per horizontal pixel of a chart.</summary>
    public const int ChartPoints = 400;

    /// <summary>The training charts: losses, per-teacher mixing weight and coverage, throughput.</summary>
    public static string Plots(LineageStore store, long runId)
    {
        var series = store.MetricSeries(runId, ChartPoints);
        Series S(string metric, string? label = null) => new(label ?? metric,
            series.TryGetValue(metric, out var points) ? points.Select(p => ((double)p.Step, p.Value)).ToList() : []);
        var names = series.Keys.Order(StringComparer.Ordinal).ToList();
        var losses = new[] { MetricNames.Loss, MetricNames.HardLabelCe, MetricNames.Distillation }.Where(names.Contains).Select(n => S(n)).ToList();
        List<Series> Members(string group) => [.. names.Where(n => MetricNames.Member(n, group) is not null).Select(n => S(n, MetricNames.Member(n, group)))];
        var weights = Members(MetricNames.WeightGroup);
        var coverage = Members(MetricNames.CoverageGroup);
        return LineChart.Render("Loss", "step", "nats per token", losses)
            + LineChart.Render("Mixing weight per teacher", "step", "mean weight", weights)
            + LineChart.Render("Alignment coverage per teacher", "step", "aligned / all positions", coverage)
            + LineChart.Render("Throughput", "step", "tokens per second", [S(MetricNames.TokensPerSecond, "tokens/s")]);
    }
}
