using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using MultiTeacher.Dashboard;
using MultiTeacher.Lineage;
using MultiTeacher.Runs;
using MultiTeacher.Tests.Lineage;

namespace MultiTeacher.Tests.Dashboard;

/// <summary>
/// A run's page, charts and lineage graph are served from memory while the run has not moved, and
/// change as soon as it does; a browser holding the current copy gets 304.
/// </summary>
[Trait("Category", TestCategory.Database)]
[Collection("postgres")]
public sealed class PageCacheTests(PostgresFixture postgres) : TempDirectoryTest
{
    private sealed record Site(WebApplication App, string Url, LineageStore Store, long Run) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await App.StopAsync();
            await App.DisposeAsync();
        }
    }

    private async Task<Site> Start(bool readOnly = false)
    {
        var db = postgres.NewDatabase();
        Migrator.Apply(db);
        var store = new LineageStore(db);
        var run = store.StartRun(store.RecordRecipe("cached", "name: cached"), 1, new Dictionary<string, string>());
        store.AppendMetrics(run, [.. Enumerable.Range(1, 10).SelectMany(s => new[] { (s, "loss", 5.0 / s), (s, "tokens_per_s", 1000.0 + s) })]);
        var url = $"http://127.0.0.1:{DashboardSession.FreePort()}";
        // Nice 0: the test process is shared with other tests.
        var app = DashboardApp.Build(new DashboardSettings(db, [url], null, readOnly, TempDir) { Nice = 0 });
        await app.StartAsync();
        return new Site(app, url, store, run);
    }

    private static async Task<HttpResponseMessage> Get(HttpClient http, string url, string? ifNoneMatch = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (ifNoneMatch is not null) request.Headers.TryAddWithoutValidation("If-None-Match", ifNoneMatch);
        return await http.SendAsync(request);
    }

    /// <summary>The steps of the loss line in a charts.json answer.</summary>
    private static List<double> LossSteps(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var loss = doc.RootElement.GetProperty("charts").EnumerateArray().Single(c => c.GetProperty("id").GetString() == "loss");
        return [.. loss.GetProperty("x").EnumerateArray().Select(x => x.GetDouble())];
    }

    [Fact]
    public async Task Charts_ChangeWhenANewMetricRowArrives()
    {
        await using var site = await Start();
        using var http = new HttpClient();
        var charts = $"{site.Url}/runs/{site.Run}/charts.json";
        var first = await Get(http, charts);
        var again = await Get(http, charts);
        Assert.Equal(Enumerable.Range(1, 10).Select(s => (double)s), LossSteps(await first.Content.ReadAsStringAsync()));
        Assert.Equal(first.Headers.ETag, again.Headers.ETag);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await again.Content.ReadAsStringAsync());

        site.Store.AppendMetrics(site.Run, [(11, "loss", 0.25)]);
        var moved = await Get(http, charts);
        Assert.Equal(Enumerable.Range(1, 11).Select(s => (double)s), LossSteps(await moved.Content.ReadAsStringAsync()));
        Assert.NotEqual(first.Headers.ETag, moved.Headers.ETag);
    }

    [Fact]
    public async Task MatchingETag_Is304WithoutABody_AndAnOutdatedOneGetsTheNewAnswer()
    {
        await using var site = await Start();
        using var http = new HttpClient();
        var charts = $"{site.Url}/runs/{site.Run}/charts.json";
        var first = await Get(http, charts);
        var etag = first.Headers.ETag!.ToString();
        Assert.Equal("no-cache", first.Headers.CacheControl!.ToString());

        var unchanged = await Get(http, charts, etag);
        Assert.Equal(HttpStatusCode.NotModified, unchanged.StatusCode);
        Assert.Empty(await unchanged.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.NotModified, (await Get(http, charts, $"\"other\", {etag}")).StatusCode);

        site.Store.AppendMetrics(site.Run, [(11, "loss", 0.25)]);
        var outdated = await Get(http, charts, etag);
        Assert.Equal(HttpStatusCode.OK, outdated.StatusCode);
        Assert.Contains(11.0, LossSteps(await outdated.Content.ReadAsStringAsync()));
        Assert.NotEqual(etag, outdated.Headers.ETag!.ToString());
    }

    [Fact]
    public async Task FinishedRunPage_ShowsAnAuditAddedAfterItWasServed()
    {
        await using var site = await Start();
        site.Store.FinishRun(site.Run, RunStatus.Succeeded);
        using var http = new HttpClient();
        var page = $"{site.Url}/runs/{site.Run}";
        var before = await Get(http, page);
        Assert.Contains("none yet", await before.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotModified, (await Get(http, page, before.Headers.ETag!.ToString())).StatusCode);

        site.Store.RecordAudit(site.Run, "tampered", "{\"Reason\": \"student weights changed\"}");
        var after = await Get(http, page, before.Headers.ETag!.ToString());
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Contains("student weights changed", await after.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task LiveRunPage_GivesEachBrowserItsOwnFormToken_AndNoETag()
    {
        await using var site = await Start();
        var page = $"{site.Url}/runs/{site.Run}";
        using var one = new HttpClient();
        using var two = new HttpClient();
        var first = await one.GetAsync(page);
        var second = await two.GetAsync(page);
        string Token(string html) => System.Text.RegularExpressions.Regex.Match(html, "name=\"__RequestVerificationToken\" value=\"([^\"]+)\"").Groups[1].Value;
        var (a, b) = (Token(await first.Content.ReadAsStringAsync()), Token(await second.Content.ReadAsStringAsync()));
        Assert.NotEmpty(a);
        Assert.NotEmpty(b);
        Assert.NotEqual(a, b);
        Assert.DoesNotContain(PageCache.FormFieldSlot, await first.Content.ReadAsStringAsync());
        Assert.Null(first.Headers.ETag);
        Assert.True(first.Headers.CacheControl!.NoStore);
    }

    [Fact]
    public async Task LineageGraph_ShowsARunThatLaterUsedThisRunsOutput()
    {
        await using var site = await Start(readOnly: true);
        using var http = new HttpClient();
        var graph = $"{site.Url}/runs/{site.Run}/lineage.json";
        Assert.DoesNotContain("run:", (await http.GetStringAsync(graph)).Replace($"run:{site.Run}", ""));

        var file = Path.Combine(TempDir, "student.bin");
        File.WriteAllText(file, "weights");
        var student = site.Store.RecordArtifact("student", file);
        site.Store.Link(site.Run, student, "produced", "student");
        var later = site.Store.StartRun(site.Store.RecordRecipe("later", "name: later"), 2, new Dictionary<string, string>());
        site.Store.Link(later, student, "used", "student.init");
        Assert.Contains($"run:{later}", await http.GetStringAsync(graph));
    }
}
