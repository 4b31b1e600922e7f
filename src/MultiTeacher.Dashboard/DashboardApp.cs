using System.Net;
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

/// <summary>How the dashboard is served: addresses, the access token (required off loopback), read-only mode.</summary>
public sealed record DashboardSettings(string ConnectionString, IReadOnlyList<string> Urls, string? AuthToken, bool ReadOnly, string CacheRoot)
{
    /// <summary>Refuses a non-loopback address without a token: the dashboard shows recipes, paths and can cancel runs.</summary>
    public void Validate()
    {
        foreach (var url in Urls)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                throw new ArgumentException($"'{url}' is not an http(s) address");
            if (!IsLoopback(uri.Host) && string.IsNullOrEmpty(AuthToken))
                throw new ArgumentException($"{url} is not a loopback address: start with --auth-token TOKEN (or MT_DASHBOARD_TOKEN)");
        }
    }

    private static bool IsLoopback(string host) => host == "localhost" || IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip);

    /// <summary>Host names accepted besides loopback and the hosts of <see cref="Urls"/> (the names a proxy or a LAN uses).</summary>
    public IReadOnlyList<string> AllowedHosts { get; init; } = [];

    /// <summary>
    /// Connections the dashboard may hold at once, pages and Hangfire together: under load requests
    /// wait for a free connection instead of taking the server's last ones from training jobs.
    /// </summary>
    public int MaxConnections { get; init; } = 16;

    /// <summary>
    /// Hangfire pages served at once; the rest wait their turn in memory. A Hangfire page can hold two
    /// connections at once (its statistics open a queue query inside another), so with more of them
    /// than half the pool, each could hold one connection while waiting for a second: a deadlock that
    /// ends only in pool timeouts. MultiTeacher's own pages hold one connection at a time and need no turn.
    /// </summary>
    public int MaxConcurrentHangfireRequests => Math.Max(1, MaxConnections / 2);

    /// <summary>Where the pinned browser libraries (web/uplot, web/dagre) are read from: the asset cache of `mt assets fetch`.</summary>
    public string AssetRoot { get; init; } = MultiTeacher.Assets.AssetStore.DefaultRoot();

    /// <summary>
    /// Requests served at once; the rest wait their turn in memory. The dashboard usually shares the
    /// machine with training: served without a bound, a burst of page requests takes every core and
    /// the training slows to a fraction of its speed.
    /// </summary>
    public int MaxConcurrentRequests { get; init; } = Math.Max(1, Environment.ProcessorCount / 2);

    /// <summary>How the dashboard's connections are named in pg_stat_activity.</summary>
    public const string ApplicationName = "mt-dashboard";

    /// <summary>The connection string every part of the dashboard uses, so they share one bounded pool.</summary>
    public string PooledConnectionString => new Npgsql.NpgsqlConnectionStringBuilder(ConnectionString)
    {
        MaxPoolSize = MaxConnections,
        MinPoolSize = 0,
        Timeout = 30,
        ApplicationName = ApplicationName,
    }.ConnectionString;

    /// <summary>Cancel needs anti-forgery always, and the token too when one is set; read-only mode has no mutations at all.</summary>
    public bool AllowsMutations => !ReadOnly;
}

/// <summary>The dashboard site: MultiTeacher's pages and the Hangfire dashboard at /hangfire, over the lineage database.</summary>
public static class DashboardApp
{
    public const string Cookie = "mt_token";

    /// <summary>Pool threads ready at start: enough for a burst of concurrent page requests, each blocking on the database.</summary>
    public const int MinThreads = 64;

    public static WebApplication Build(DashboardSettings settings)
    {
        settings.Validate();
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
        app.MapGet("/", (string? status, string? q) => HtmlResult(RunsPage.Render(store, status, q)));
        app.MapGet("/runs/{id:long}", (long id, HttpContext context, IAntiforgery antiforgery) =>
        {
            if (store.Run(id) is null) return Results.NotFound($"no run {id}");
            string? field = null;
            if (settings.AllowsMutations)
            {
                var tokens = antiforgery.GetAndStoreTokens(context);
                field = $"<input type=\"hidden\" name=\"{tokens.FormFieldName}\" value=\"{tokens.RequestToken}\">";
            }
            return HtmlResult(RunPage.Render(store, id, field));
        });
        app.MapGet("/runs/{id:long}/charts.json", (long id) => store.Run(id) is null ? Results.NotFound()
            : JsonResult(new { charts = RunCharts.Build([RunSeries.Read(store, id)], new TeacherPalette(store.TeacherNames())) }));
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
        app.MapGet("/runs/{id:long}/lineage", (long id) => store.Run(id) is null ? Results.NotFound() : HtmlResult(LineagePage.Render(id)));
        app.MapGet("/runs/{id:long}/lineage.json", (long id) => store.Run(id) is null ? Results.NotFound() : JsonResult(LineagePage.Graph(store, id)));
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

    private static IResult HtmlResult(string html) => Results.Content(html, "text/html; charset=utf-8");

    private static IResult JsonResult<T>(T value) => Results.Content(SpellingJson.Serialize(value), "application/json; charset=utf-8");

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
