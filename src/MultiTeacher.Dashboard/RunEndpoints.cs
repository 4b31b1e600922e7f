using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using MultiTeacher.Dashboard.Charts;
using MultiTeacher.Dashboard.Pages;
using MultiTeacher.Lineage;
using MultiTeacher.Reporting;
using MultiTeacher.Runs;

namespace MultiTeacher.Dashboard;

/// <summary>
/// The runs table and each run's page, charts and lineage graph, from <see cref="PageCache"/> while
/// what they show stands: a live run's charts are polled every few seconds by every open browser,
/// and rendering a page costs several queries and a pass over the run's metrics.
/// </summary>
public static class RunEndpoints
{
    /// <summary>How often the pages look for runs whose `mt run` process is gone (each look is a query and a check per owned run).</summary>
    public static readonly TimeSpan AbandonedCheckEvery = TimeSpan.FromSeconds(1);

    public static void Map(WebApplication app, LineageStore store, DashboardSettings settings)
    {
        var cache = new PageCache();
        var abandoned = new Throttle(AbandonedCheckEvery, () => store.FailAbandoned());
        app.MapGet("/", (string? status, string? q, HttpContext context) =>
        {
            abandoned.Run();
            return cache.Serve(context, $"runs/{status}\n{q}", store.RunsVersion(RunsPage.Limit), DashboardApp.HtmlType, () => RunsPage.Render(store, status, q));
        });
        app.MapGet("/runs/{id:long}", (long id, HttpContext context, IAntiforgery antiforgery) =>
        {
            abandoned.Run();
            if (store.RunVersion(id) is not { } version) return Results.NotFound($"no run {id}");
            return cache.Serve(context, $"run/{id}", version, DashboardApp.HtmlType,
                () => RunPage.Render(store, id, settings.AllowsMutations ? PageCache.FormFieldSlot : null),
                () =>
                {
                    var tokens = antiforgery.GetAndStoreTokens(context);
                    return $"<input type=\"hidden\" name=\"{tokens.FormFieldName}\" value=\"{tokens.RequestToken}\">";
                });
        });
        app.MapGet("/runs/{id:long}/charts.json", (long id, HttpContext context) =>
        {
            if (store.RunVersion(id) is not { } version) return Results.NotFound();
            return cache.Serve(context, $"charts/{id}", version, DashboardApp.JsonType, () => SpellingJson.Serialize(
                new { charts = RunCharts.Build([RunSeries.Read(store, id)], new TeacherPalette(store.TeacherNames())) }));
        });
        app.MapGet("/runs/{id:long}/lineage", (long id) => store.Run(id) is null ? Results.NotFound() : DashboardApp.HtmlResult(LineagePage.Render(id)));
        app.MapGet("/runs/{id:long}/lineage.json", (long id, HttpContext context) =>
        {
            if (store.RunVersion(id) is null) return Results.NotFound();
            return cache.Serve(context, $"lineage/{id}", store.LineageVersion(), DashboardApp.JsonType, () => SpellingJson.Serialize(LineagePage.Graph(store, id)));
        });
    }

    /// <summary>Runs an action at most once per interval; callers in between go on without waiting for it.</summary>
    private sealed class Throttle(TimeSpan interval, Action action)
    {
        private long _next;

        public void Run()
        {
            var now = Environment.TickCount64;
            var next = Interlocked.Read(ref _next);
            if (now < next || Interlocked.CompareExchange(ref _next, now + (long)interval.TotalMilliseconds, next) != next) return;
            action();
        }
    }
}
