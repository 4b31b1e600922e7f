using Hangfire;
using Hangfire.Dashboard;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MultiTeacher.Dashboard.Charts;
using MultiTeacher.Dashboard.Pages;
using MultiTeacher.Reporting;
using MultiTeacher.Jobs;
using MultiTeacher.Lineage;
using MultiTeacher.Runs;

namespace MultiTeacher.Dashboard;

/// <summary>The dashboard site: MultiTeacher's pages and the Hangfire dashboard at /hangfire, over the lineage database.</summary>
public static class DashboardApp
{
    public const string Cookie = "mt_token";

    /// <summary>Pool threads ready at start: enough for a burst of concurrent page requests, each blocking on the database.</summary>
    public const int MinThreads = 64;

    public static WebApplication Build(DashboardSettings settings)
    {
        settings.Validate();
        // Before the host starts its threads, so they inherit the priority from the threads that create them.
        MultiTeacher.Runtime.ThreadNice.LowerAllThreads(settings.Nice);
        // Pages and Hangfire read the database synchronously, so each request in flight holds a pool
        // thread; the thread pool starts with one per core and adds about one a second, which under a
        // burst of requests leaves them queued for seconds. Start with enough threads for a burst.
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, MinThreads), Math.Max(io, MinThreads));
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls([.. settings.Urls]);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        // Open pages (a live run polls its plots) must not hold a stopping dashboard for the default 30 s.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(3));
        // The host logs a failed start (a port in use) with its stack trace before rethrowing; the caller reports the rethrown error in one line.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);
        builder.Services.AddAntiforgery();
        // Keys live only as long as the process: a restarted dashboard just issues new anti-forgery tokens.
        builder.Services.AddDataProtection().UseEphemeralDataProtectionProvider();
        var connectionString = settings.PooledConnectionString;
        var storage = MultiTeacher.Jobs.JobStorage.Create(connectionString);
        // AddHangfire points Hangfire's process-wide log provider at this app's logger factory, which dies
        // with the app; workers in the same process (mt run, tests) would then fail on it.
        builder.Services.AddHangfire(c => c.UseStorage(storage).UseLogProvider(new SilentLogProvider()));
        var app = builder.Build();
        var store = new LineageStore(connectionString);
        var allowedHosts = RequestGuards.AllowedHosts(settings);
        var hangfireTurns = new SemaphoreSlim(settings.MaxConcurrentHangfireRequests);
        var requestTurns = new SemaphoreSlim(settings.MaxConcurrentRequests);
        app.Use(async (context, next) =>
        {
            if (!RequestGuards.HostAllowed(context.Request, allowedHosts))
            {
                context.Response.StatusCode = StatusCodes.Status400BadRequest;
                await context.Response.WriteAsync($"host '{context.Request.Host.Host}' is not served here (allowed: {string.Join(", ", allowedHosts.Order(StringComparer.Ordinal))}; add names with --allowed-hosts)");
                return;
            }
            if (!Authorized(context, settings)) { context.Response.StatusCode = StatusCodes.Status401Unauthorized; await context.Response.WriteAsync("a valid token is required (?token=, Authorization: Bearer, or the mt_token cookie)"); return; }
            if (!string.IsNullOrEmpty(settings.AuthToken) && RequestGuards.WithoutToken(context.Request) is { } clean)
            {
                context.Response.Redirect(clean);
                return;
            }
            // Static files are cheap, few per page and cached by the browser: they need no turn behind page requests.
            if (WebAssets.IsStatic(context.Request.Path)) { await next(); return; }
            await requestTurns.WaitAsync(context.RequestAborted);
            try
            {
                if (!context.Request.Path.StartsWithSegments("/hangfire")) { await next(); return; }
                await hangfireTurns.WaitAsync(context.RequestAborted);
                try { await next(); }
                finally { hangfireTurns.Release(); }
            }
            finally { requestTurns.Release(); }
        });
        app.UseHangfireDashboard("/hangfire", new DashboardOptions
        {
            Authorization = [new TokenFilter(settings)],
            IsReadOnlyFunc = _ => !settings.AllowsMutations,
            AppPath = "/",
            DashboardTitle = "MultiTeacher jobs",
        }, storage);

        WebAssets.Map(app, settings.AssetRoot);
        RunEndpoints.Map(app, store, settings);
        app.MapGet("/compare", (HttpRequest request) =>
        {
            var runs = ComparePage.Runs(store, request.Query["run"], out var problem);
            return problem is null ? HtmlResult(ComparePage.Render(store, runs)) : Results.BadRequest(problem);
        });
        app.MapGet("/compare/charts.json", (HttpRequest request) =>
        {
            var runs = ComparePage.Runs(store, request.Query["run"], out var problem);
            return problem is not null ? Results.BadRequest(problem)
                : JsonResult(new { charts = RunCharts.Build([.. runs.Select(r => RunSeries.Read(store, r.Id))], new TeacherPalette(store.TeacherNames())) });
        });
        app.MapGet("/runs/{id:long}/contribution", (long id, string? text, int? page) => store.Run(id) is null ? Results.NotFound()
            : HtmlResult(ContributionPage.Render(store, id, text, page ?? 1, settings.CacheRoot)));
        app.MapPost("/runs/{id:long}/cancel", async (long id, HttpContext context, IAntiforgery antiforgery) =>
        {
            if (!settings.AllowsMutations) return Results.StatusCode(StatusCodes.Status403Forbidden);
            try { await antiforgery.ValidateRequestAsync(context); }
            catch (AntiforgeryValidationException) { return Results.BadRequest("anti-forgery token missing or invalid"); }
            if (store.Run(id) is null) return Results.NotFound();
            new JobClient(connectionString, storage).Cancel(id);
            return Results.Redirect($"/runs/{id}");
        });
        return app;
    }

    internal const string HtmlType = "text/html; charset=utf-8", JsonType = "application/json; charset=utf-8";

    internal static IResult HtmlResult(string html) => Results.Content(html, HtmlType);

    internal static IResult JsonResult<T>(T value) => Results.Content(SpellingJson.Serialize(value), JsonType);

    /// <summary>With a token set, every request (pages, plots, Hangfire) must carry it; ?token= also sets the cookie.</summary>
    public static bool Authorized(HttpContext context, DashboardSettings settings)
    {
        if (string.IsNullOrEmpty(settings.AuthToken)) return true;
        var presented = context.Request.Query["token"].FirstOrDefault()
            ?? (context.Request.Headers.Authorization.FirstOrDefault() is { } h && h.StartsWith("Bearer ", StringComparison.Ordinal) ? h["Bearer ".Length..] : null)
            ?? context.Request.Cookies[Cookie];
        if (presented is null || !System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
                System.Text.Encoding.UTF8.GetBytes(presented), System.Text.Encoding.UTF8.GetBytes(settings.AuthToken))) return false;
        if (context.Request.Query.ContainsKey("token"))
            context.Response.Cookies.Append(Cookie, presented, new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Strict });
        return true;
    }

    private sealed class SilentLogProvider : Hangfire.Logging.ILogProvider
    {
        public Hangfire.Logging.ILog GetLogger(string name) => new Silent();

        private sealed class Silent : Hangfire.Logging.ILog
        {
            public bool Log(Hangfire.Logging.LogLevel logLevel, Func<string>? messageFunc, Exception? exception = null) => false;
        }
    }

    private sealed class TokenFilter(DashboardSettings settings) : IDashboardAuthorizationFilter
    {
        public bool Authorize(DashboardContext context) => Authorized(context.GetHttpContext(), settings);
    }
}
