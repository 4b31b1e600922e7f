using System.Net;
using System.Net.Sockets;
using MultiTeacher.Dashboard;
using MultiTeacher.Lineage;
using MultiTeacher.Tests.Lineage;
using Npgsql;
using Xunit.Abstractions;

namespace MultiTeacher.Tests.Reliability;

/// <summary>The dashboard against hostile requests: foreign Host headers (DNS rebinding), tokens in URLs, 50 requests at once.</summary>
[Trait("Category", TestCategory.Database)]
[Collection("postgres")]
public sealed class DashboardHostileTests(PostgresFixture postgres, ITestOutputHelper output) : TempDirectoryTest
{
    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private (string Db, long Run) Database()
    {
        var db = postgres.NewDatabase();
        Migrator.Apply(db);
        var store = new LineageStore(db);
        var run = store.StartRun(store.RecordRecipe("<script>alert(1)</script>", "name: x"), 1, new Dictionary<string, string>());
        store.AppendMetrics(run, [.. Enumerable.Range(1, 300).SelectMany(s => new[] { (s, "loss", 5.0 / s), (s, "tokens_per_s", 1000.0 + s) })]);
        return (db, run);
    }

    private static async Task<HttpResponseMessage> Get(HttpClient http, string url, string? host = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (host is not null) request.Headers.Host = host;
        return await http.SendAsync(request);
    }

    [Fact]
    public async Task ForeignHostHeader_IsRefused_LoopbackAndConfiguredNamesAreServed()
    {
        var (db, run) = Database();
        var port = FreePort();
        await using var app = DashboardApp.Build(new DashboardSettings(db, [$"http://127.0.0.1:{port}"], null, false, TempDir) { AllowedHosts = ["mt.lan"], Nice = 0 });
        await app.StartAsync();
        using var http = new HttpClient();
        var url = $"http://127.0.0.1:{port}/runs/{run}";
        Assert.Equal(HttpStatusCode.BadRequest, (await Get(http, url, $"rebind.attacker.example:{port}")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await Get(http, $"http://127.0.0.1:{port}/hangfire", "attacker.example")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await Get(http, url, "localhost.attacker.example")).StatusCode);
        foreach (var host in new[] { $"127.0.0.1:{port}", $"localhost:{port}", "LOCALHOST", $"[::1]:{port}", $"mt.lan:{port}" })
            Assert.True((await Get(http, url, host)).StatusCode == HttpStatusCode.OK, host);
        var page = await (await Get(http, url)).Content.ReadAsStringAsync();
        Assert.DoesNotContain("<script>alert(1)</script>", page);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", page);
        await app.StopAsync();
    }

    [Fact]
    public async Task TokenInUrl_IsExchangedForTheCookie_AndRedirectedAway()
    {
        var (db, run) = Database();
        var port = FreePort();
        await using var app = DashboardApp.Build(new DashboardSettings(db, [$"http://127.0.0.1:{port}"], "s3cret", false, TempDir) { Nice = 0 });
        await app.StartAsync();
        using var noRedirect = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false });
        var response = await Get(noRedirect, $"http://127.0.0.1:{port}/runs/{run}?token=s3cret&x=1");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal($"/runs/{run}?x=1", response.Headers.Location!.OriginalString);
        var cookie = response.Headers.GetValues("Set-Cookie").Single();
        Assert.StartsWith($"{DashboardApp.Cookie}=s3cret", cookie);
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Get(noRedirect, $"http://127.0.0.1:{port}/runs/{run}?token=wrong")).StatusCode);

        using var browser = new HttpClient();   // follows the redirect with the cookie, as a browser does
        var followed = await browser.GetAsync($"http://127.0.0.1:{port}/runs/{run}?token=s3cret");
        Assert.Equal(HttpStatusCode.OK, followed.StatusCode);
        Assert.DoesNotContain("token", followed.RequestMessage!.RequestUri!.Query);
        await app.StopAsync();
    }

    [Fact]
    public async Task FiftyConcurrentRequests_AllSucceed_WithinTheBoundedPool()
    {
        var (db, run) = Database();
        var port = FreePort();
        var settings = new DashboardSettings(db, [$"http://127.0.0.1:{port}"], null, false, TempDir) { MaxConnections = 8, Nice = 0 };
        await using var app = DashboardApp.Build(settings);
        await app.StartAsync();
        var database = new NpgsqlConnectionStringBuilder(db).Database;
        var peak = 0;
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            await using var c = new NpgsqlConnection(db);
            await c.OpenAsync();
            while (!stop.IsCancellationRequested)
            {
                await using var cmd = new NpgsqlCommand("SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND application_name = $2", c)
                    { Parameters = { new() { Value = database }, new() { Value = DashboardSettings.ApplicationName } } };
                peak = Math.Max(peak, (int)(long)(await cmd.ExecuteScalarAsync())!);
            }
        });
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        string[] paths = ["/", $"/runs/{run}", $"/runs/{run}/charts.json", $"/runs/{run}/lineage.json", "/hangfire", "/hangfire/jobs/enqueued"];
        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => http.GetAsync($"http://127.0.0.1:{port}{paths[i % paths.Length]}")));
        stop.Cancel();
        await sampler;
        output.WriteLine($"peak connections of the dashboard: {peak}");   // its own pool only, not the test's set-up connections
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.InRange(peak, 1, settings.MaxConnections);
        await app.StopAsync();
    }
}
