using System.Net;
using MultiTeacher.Dashboard;
using MultiTeacher.Lineage;
using MultiTeacher.Tests.Lineage;

namespace MultiTeacher.Tests.Dashboard;

/// <summary>The dashboard serves the pinned chart and graph libraries from the asset cache, and its own scripts, itself.</summary>
[Trait("Category", TestCategory.Database)]
[Collection("postgres")]
public sealed class WebAssetsTests(PostgresFixture postgres) : TempDirectoryTest
{
    private async Task<(HttpStatusCode Status, byte[] Body, string? Type)> Get(string assetRoot, string path)
    {
        var db = postgres.NewDatabase();
        Migrator.Apply(db);
        var url = $"http://127.0.0.1:{DashboardSession.FreePort()}";
        await using var app = DashboardApp.Build(new DashboardSettings(db, [url], null, true, TempDir) { AssetRoot = assetRoot, Nice = 0 });
        await app.StartAsync();
        using var http = new HttpClient();
        using var response = await http.GetAsync(url + path);
        var body = await response.Content.ReadAsByteArrayAsync();
        await app.StopAsync();
        return (response.StatusCode, body, response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("/vendor/uplot/uPlot.iife.min.js", "web/uplot", "uPlot.iife.min.js", "text/javascript")]
    [InlineData("/vendor/uplot/uPlot.min.css", "web/uplot", "uPlot.min.css", "text/css")]
    [InlineData("/vendor/dagre/dagre.min.js", "web/dagre", "dagre.min.js", "text/javascript")]
    public async Task Vendor_IsTheFetchedAssetFile(string path, string asset, string file, string type)
    {
        var (status, body, contentType) = await Get(TestAssets.Store.Root, path);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(File.ReadAllBytes(Path.Combine(TestAssets.Store.Require(asset), file)), body);
        Assert.Equal(type, contentType);
    }

    [Fact]
    public async Task Vendor_WithoutTheAssets_Is404NamingTheFetchCommand()
    {
        var (status, body, _) = await Get(Path.Combine(TempDir, "no-assets"), "/vendor/dagre/dagre.min.js");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Contains("run `mt assets fetch`", System.Text.Encoding.UTF8.GetString(body));
    }

    [Theory]
    [InlineData("charts.js", "uPlot")]
    [InlineData("lineage.js", "dagre.layout")]
    [InlineData("runs.js", "aria-sort")]
    public async Task Static_ServesTheEmbeddedScripts(string script, string uses)
    {
        var (status, body, type) = await Get(TestAssets.Store.Root, "/static/" + script);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("text/javascript", type);
        Assert.Contains(uses, System.Text.Encoding.UTF8.GetString(body));
    }
}
