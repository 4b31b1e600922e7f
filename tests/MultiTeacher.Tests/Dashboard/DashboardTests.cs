using System.Net;
using Microsoft.AspNetCore.Builder;
using MultiTeacher.Dashboard;
using MultiTeacher.Jobs;
using MultiTeacher.Lineage;
using MultiTeacher.Tests.Cli;
using MultiTeacher.Tests.Integration;
using MultiTeacher.Tests.Lineage;
using static MultiTeacher.Tests.Jobs.JobHarness;
using MultiTeacher.Runs;

namespace MultiTeacher.Tests.Dashboard;

/// <summary>The dashboard in Debian's Chromium driven by Playwright, over a real finished run and a real running one.</summary>
[Trait("Category", TestCategory.Browser)]
[Collection("postgres")]
public sealed class DashboardTests(PostgresFixture postgres) : TempDirectoryTest
{
    private (string Db, long Run, TinyRuns Runs) FinishedRun(string name)
    {
        var db = postgres.NewDatabase();
        var runs = new TinyRuns(TempDir);
        runs.WriteData(trainDocuments: 1, trainChars: 2000);
        var teacher = runs.WriteTeacher("llama", "llama", "llama3", 128256, seed: 201);
        var config = runs.WriteConfig("student", "qwen2", 32000);
        var recipe = runs.WriteRecipe("dash", $"""
            seed: 3
            data: {"{"} train: train.txt, eval: eval.txt, seq_len: 32 {"}"}
            teachers:
              - {"{"} name: llama, path: {teacher} {"}"}
            student: {"{"} config: {config}, tokenizer: {TestAssets.TokenizerDir("mistral-7b-v0.1")} {"}"}
            alignment: {"{"} top_k: 8 {"}"}
            train: {"{"} steps: 6, batch_size: 2 {"}"}
            eval: {"{"} max_bytes: 1500 {"}"}
            """);
        var (code, _, error) = CliRunner.Run("", "run", recipe, "--database", db);
        Assert.True(code == 0, error);
        // The recipe name is the hostile part. Recipes refuse such names now, but lineage may hold
        // anything (older runs, other writers): whatever it holds must reach every page as text.
        using (var connection = new Npgsql.NpgsqlConnection(db))
        {
            connection.Open();
            using var rename = new Npgsql.NpgsqlCommand("UPDATE lineage.recipes SET name = $1", connection) { Parameters = { new() { Value = name } } };
            rename.ExecuteNonQuery();
        }
        return (db, new LineageStore(db).Runs().Single().Id, runs);
    }

    [Fact]
    public async Task Pages_RenderRunsDetailPlotsLineageContributionAndHangfire_InARealBrowser()
    {
        var (db, runId, _) = FinishedRun("dash <b>bold</b>");
        await using var session = await DashboardSession.Start(db, Path.Combine(TempDir, "cache"));
        var (page, url) = (session.Page, session.Url);

        await page.GotoAsync(url + "/");
        Assert.Contains("dash <b>bold</b>", await page.InnerTextAsync("#runs"));   // shown as text, not markup
        Assert.Equal(0, await page.Locator("#runs b").CountAsync());
        await session.Screenshot("runs.png");

        await page.ClickAsync($"#runs a[href='/runs/{runId}']");
        await page.WaitForSelectorAsync("#plots .chart[data-chart=loss] .uplot");
        Assert.Contains("student", await page.InnerTextAsync("#evaluation"));
        Assert.Contains("teacher:llama", await page.InnerTextAsync("#artifacts"));
        await session.Screenshot("run.png");

        await page.ClickAsync("text=lineage graph");
        await page.WaitForSelectorAsync("#lineage g.node");
        var graph = await page.InnerHTMLAsync("#lineage");
        Assert.Contains("teacher:llama", graph);
        Assert.Contains("data.train", graph);
        await session.Screenshot("lineage.png");

        await page.GotoAsync($"{url}/runs/{runId}/contribution");
        Assert.True(await page.Locator("#contribution span[data-teacher='llama']").CountAsync() > 5);
        await session.Screenshot("contribution.png");

        var hangfire = await page.GotoAsync(url + "/hangfire");
        Assert.Equal(200, hangfire!.Status);
        Assert.Contains("MultiTeacher jobs", await page.TitleAsync());
        await session.Screenshot("hangfire.png");
    }

    [Fact]
    public async Task CancelButton_StopsARunningJob()
    {
        var db = postgres.NewDatabase();
        var runs = new TinyRuns(TempDir);
        runs.WriteData(trainDocuments: 1, trainChars: 2000);
        var recipe = StudentRecipe(runs, "to-cancel", steps: 100_000);
        Migrator.Apply(db);
        using var worker = JobWorker.Start(db, ["dash"], 1, TextWriter.Null, cacheRoot: Path.Combine(TempDir, "cache"));
        var runId = new JobClient(db, worker.Storage).Submit(MultiTeacher.Recipes.RecipeLoader.Load(recipe), "dash");
        WaitUntil(() => new LineageStore(db).Run(runId)!.Status == RunStatus.Running, what: "the run to start");

        await using var session = await DashboardSession.Start(db, Path.Combine(TempDir, "cache"));
        var (page, url) = (session.Page, session.Url);
        await page.GotoAsync($"{url}/runs/{runId}");
        await page.ClickAsync("#cancel");
        Assert.Equal(RunStatus.Cancelled, WaitForEnd(db, runId, seconds: 60).Status);
        await page.GotoAsync($"{url}/runs/{runId}");
        Assert.Equal(0, await page.Locator("#cancel").CountAsync());
        await session.Screenshot("cancelled.png");
    }

    [Fact]
    public async Task NonLoopbackBinding_NeedsAToken_AndRefusesRequestsWithoutIt()
    {
        var db = postgres.NewDatabase();
        Migrator.Apply(db);
        var port = DashboardSession.FreePort();
        Assert.Throws<ArgumentException>(() => DashboardApp.Build(new DashboardSettings(db, [$"http://0.0.0.0:{port}"], null, false, TempDir)));
        Assert.Equal(2, CliRunner.Run("", "dashboard", "--urls", $"http://0.0.0.0:{port}", "--database", db).ExitCode);

        await using var app = DashboardApp.Build(new DashboardSettings(db, [$"http://0.0.0.0:{port}"], "s3cret", false, TempDir) { Nice = 0 });
        await app.StartAsync();
        using var http = new HttpClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync($"http://127.0.0.1:{port}/")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync($"http://127.0.0.1:{port}/hangfire")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync($"http://127.0.0.1:{port}/?token=wrong")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"http://127.0.0.1:{port}/?token=s3cret")).StatusCode);
        using var bearer = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{port}/hangfire");
        bearer.Headers.Authorization = new("Bearer", "s3cret");
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(bearer)).StatusCode);
        using var forged = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{port}/runs/1/cancel");
        forged.Headers.Authorization = new("Bearer", "s3cret");
        Assert.Equal(HttpStatusCode.BadRequest, (await http.SendAsync(forged)).StatusCode);   // token but no anti-forgery token
        await app.StopAsync();
    }
}
