using System.Globalization;
using System.Text.Json;
using MultiTeacher.Lineage;
using MultiTeacher.Reporting;
using MultiTeacher.Runs;
using MultiTeacher.Tests.Cli;
using MultiTeacher.Tests.Integration;
using MultiTeacher.Tests.Lineage;

namespace MultiTeacher.Tests.Dashboard;

/// <summary>
/// The dashboard's interactive parts in Debian's Chromium, over two real runs: a teacher trained
/// from scratch, then a student distilled from it and a second teacher of another vocabulary.
/// </summary>
[Trait("Category", TestCategory.Browser)]
[Collection("postgres")]
public sealed class DashboardInteractionTests(PostgresFixture postgres) : TempDirectoryTest
{
    private (string Db, long Teacher, long Fused) TwoRuns()
    {
        var db = postgres.NewDatabase();
        var runs = new TinyRuns(TempDir);
        runs.WriteData(trainDocuments: 1, trainChars: 2000);
        var first = runs.WriteRecipe("teacher-a", $"""
            seed: 3
            data: {"{"} train: train.txt, eval: eval.txt, seq_len: 32 {"}"}
            student: {"{"} config: {runs.WriteConfig("teacher-a", "llama", 128256)}, tokenizer: {TestAssets.TokenizerDir("llama3")} {"}"}
            train: {"{"} steps: 6, batch_size: 2 {"}"}
            eval: {"{"} max_bytes: 1500 {"}"}
            """);
        Assert.True(CliRunner.Run("", "run", first, "--database", db) is { ExitCode: 0 } a, "the teacher run failed");
        var llama = runs.WriteTeacher("llama", "qwen3", "qwen3", 151936, seed: 201);
        var fused = runs.WriteRecipe("fused", $"""
            seed: 4
            data: {"{"} train: train.txt, eval: eval.txt, seq_len: 32 {"}"}
            teachers:
              - {"{"} name: press, path: {runs.Output("teacher-a")}/student {"}"}
              - {"{"} name: qwen, path: {llama} {"}"}
            student: {"{"} config: {runs.WriteConfig("student", "mistral", 32000)}, tokenizer: {TestAssets.TokenizerDir("mistral-7b-v0.1")} {"}"}
            alignment: {"{"} top_k: 8 {"}"}
            train: {"{"} steps: 6, batch_size: 2 {"}"}
            eval: {"{"} max_bytes: 1500 {"}"}
            """);
        var (code, _, error) = CliRunner.Run("", "run", fused, "--database", db);
        Assert.True(code == 0, error);
        var ids = new LineageStore(db).Runs().Select(r => r.Id).Order().ToList();
        return (db, ids[0], ids[1]);
    }

    private static async Task<JsonElement> Json(DashboardSession session, string path)
    {
        var response = await session.Page.APIRequest.GetAsync(session.Url + path);
        Assert.True(response.Ok, $"{path}: {response.Status}");
        return JsonDocument.Parse(await response.TextAsync()).RootElement.Clone();
    }

    [Fact]
    public async Task RunPage_ChartsEverySeries_HoverShowsValues_LineageIsLaidOutAcrossHops_ContributionPages()
    {
        var (db, teacher, fused) = TwoRuns();
        await using var session = await DashboardSession.Start(db, Path.Combine(TempDir, "cache"));
        var page = session.Page;
        var palette = new TeacherPalette(new LineageStore(db).TeacherNames());

        // Charts: one per chart the endpoint serves, each with the endpoint's series, teachers in their colours.
        var charts = (await Json(session, $"/runs/{fused}/charts.json")).GetProperty("charts").EnumerateArray().ToList();
        var ids = charts.Select(c => c.GetProperty("id").GetString()!).ToList();
        foreach (var id in new[] { "loss", "ce", "kd", "lr", "grad_norm", "weight", "coverage", "bpb" }) Assert.Contains(id, ids);
        await page.GotoAsync($"{session.Url}/runs/{fused}");
        await page.WaitForSelectorAsync("#plots .chart[data-chart=bpb] .uplot");
        Assert.Equal(charts.Count, await page.Locator("#plots .chart .uplot").CountAsync());
        foreach (var chart in charts)
        {
            var series = chart.GetProperty("series").GetArrayLength();
            var id = chart.GetProperty("id").GetString();
            // uPlot's legend has a row for the x values and one per series.
            Assert.Equal(series + 1, await page.Locator($".chart[data-chart='{id}'] .u-legend .u-series").CountAsync());
        }
        var weights = charts.Single(c => c.GetProperty("id").GetString() == "weight").GetProperty("series").EnumerateArray().ToList();
        Assert.Equal(["press", "qwen"], weights.Select(s => s.GetProperty("label").GetString()).Order());
        foreach (var s in weights) Assert.Equal(palette.Colour(s.GetProperty("label").GetString()!), s.GetProperty("colour").GetString());
        Assert.NotEqual(weights[0].GetProperty("colour").GetString(), weights[1].GetProperty("colour").GetString());

        // Round ticks: each y axis steps by 1, 2, 2.5 or 5 times a power of ten, labels distinct and on the steps; steps are whole numbers.
        foreach (var id in new[] { "loss", "lr", "grad_norm", "weight" })
        {
            var labels = (await page.GetAttributeAsync($".chart[data-chart='{id}']", "data-yticks"))!.Split(' ');
            Assert.Equal(labels.Length, labels.Distinct().Count());
            var values = labels.Select(l => double.Parse(l, CultureInfo.InvariantCulture)).ToList();
            var step = values[1] - values[0];
            Assert.Contains(Math.Round(step / Math.Pow(10, Math.Floor(Math.Log10(step) + 1e-9)), 6), new[] { 1, 2, 2.5, 5 });
            Assert.All(values, v => Assert.True(Math.Abs(v / step - Math.Round(v / step)) < 1e-6, $"{id}: tick {v} is not a multiple of {step}"));
            Assert.All((await page.GetAttributeAsync($".chart[data-chart='{id}']", "data-xticks"))!.Split(' '), t => Assert.Matches(@"^\d+$", t));
        }

        // Hovering the loss chart puts a value of the loss series in its legend.
        var lossValues = charts.Single(c => c.GetProperty("id").GetString() == "loss").GetProperty("series")[0].GetProperty("values")
            .EnumerateArray().Where(v => v.ValueKind == JsonValueKind.Number).Select(v => v.GetDouble()).ToList();
        await page.Locator(".chart[data-chart=loss] .u-over").HoverAsync();
        var shown = await page.Locator(".chart[data-chart=loss] .u-legend .u-series").Nth(1).Locator(".u-value").InnerTextAsync();
        Assert.True(double.TryParse(shown, NumberStyles.Float, CultureInfo.InvariantCulture, out var hovered), $"legend shows '{shown}' on hover");
        Assert.Contains(lossValues, v => Math.Abs(v - hovered) <= 1e-3 * Math.Abs(v));
        await session.Screenshot("run-charts.png");

        // Lineage: laid out by dagre, the teacher run one hop up, each cache linked to its teacher.
        var graph = await Json(session, $"/runs/{fused}/lineage.json");
        await page.GotoAsync($"{session.Url}/runs/{fused}/lineage");
        await page.WaitForSelectorAsync("#lineage g.node");
        Assert.Equal(graph.GetProperty("nodes").GetArrayLength(), await page.Locator("#lineage g.node").CountAsync());
        Assert.Equal(graph.GetProperty("edges").GetArrayLength(), await page.Locator("#lineage path.edge").CountAsync());
        Assert.Equal(1, await page.Locator($"#lineage g.node[data-id='run:{teacher}']").CountAsync());
        Assert.Equal(1, await page.Locator($"#lineage a[href='/runs/{teacher}'] g.node").CountAsync());
        Assert.Equal(2, await page.Locator("#lineage path.edge-cached").CountAsync());
        var cached = page.Locator("#lineage path.edge-cached").First;
        Assert.StartsWith("artifact:", await cached.GetAttributeAsync("data-from"));
        var boxes = new List<(float X, float Y, float W, float H)>();
        foreach (var node in await page.Locator("#lineage g.node rect").AllAsync())
            boxes.Add((await node.BoundingBoxAsync())! is var b ? (b.X, b.Y, b.Width, b.Height) : default);
        for (var i = 0; i < boxes.Count; i++)
            for (var j = i + 1; j < boxes.Count; j++)
                Assert.False(boxes[i].X < boxes[j].X + boxes[j].W && boxes[j].X < boxes[i].X + boxes[i].W
                    && boxes[i].Y < boxes[j].Y + boxes[j].H && boxes[j].Y < boxes[i].Y + boxes[i].H, $"lineage nodes {i} and {j} overlap");
        await session.Screenshot("lineage-dagre.png");

        // Contribution: the held-out text is cut into pages, said so, and paged through.
        await page.GotoAsync($"{session.Url}/runs/{fused}/contribution");
        var pager = await page.InnerTextAsync("#pager");
        Assert.Matches(@"^page 1 of (\d+) · characters 1–\d+ of 3,000: the text was cut", pager);
        var first = await page.InnerTextAsync("#contribution");
        await page.ClickAsync("#pager a.page-next");
        Assert.StartsWith("page 2 of", await page.InnerTextAsync("#pager"));
        var second = await page.InnerTextAsync("#contribution");
        Assert.NotEqual(first, second);
        Assert.Contains(second.Trim()[..20], File.ReadAllText(Path.Combine(TempDir, "eval.txt")));
        Assert.True(await page.Locator("#contribution span[data-teacher]").CountAsync() > 5);
        var press = await page.Locator("#contribution span[data-teacher='press']").First.GetAttributeAsync("style");
        Assert.Contains(palette.Colour("press"), press);
        await session.Screenshot("contribution-page2.png");
        Assert.Empty(session.Errors);
    }

    [Fact]
    public async Task RunsTable_SortsByAColumn_ShowsTheStudent_AndComparesTwoRuns()
    {
        var (db, teacher, fused) = TwoRuns();
        await using var session = await DashboardSession.Start(db, Path.Combine(TempDir, "cache"));
        var page = session.Page;
        await page.GotoAsync(session.Url + "/");
        async Task<List<string>> Column(int index) =>
            [.. (await page.Locator($"#runs tr:has(td) td:nth-child({index})").AllInnerTextsAsync()).Select(t => t.Trim())];
        Assert.Equal([fused.ToString(CultureInfo.InvariantCulture), teacher.ToString(CultureInfo.InvariantCulture)], await Column(2));   // newest first
        await page.ClickAsync("#runs th:text-is('run')");
        Assert.Equal([teacher.ToString(CultureInfo.InvariantCulture), fused.ToString(CultureInfo.InvariantCulture)], await Column(2));
        Assert.Equal("ascending", await page.GetAttributeAsync("#runs th:text-is('run')", "aria-sort"));
        await page.ClickAsync("#runs th:text-is('recipe')");
        await page.ClickAsync("#runs th:text-is('recipe')");
        Assert.Equal(["teacher-a", "fused"], await Column(4));   // descending by name
        Assert.Equal(["llama 1×32 (new)", "mistral 1×32 (new)"], await Column(5));   // the student's architecture, not a file name
        Assert.All(await Column(10), d => Assert.Matches(@"^\d+( min \d\d)? s$", d));

        Assert.True(await page.IsDisabledAsync("#compare"));
        await page.CheckAsync($"#runs input[value='{teacher}']");
        await page.CheckAsync($"#runs input[value='{fused}']");
        await page.ClickAsync("#compare");
        await page.WaitForSelectorAsync("#plots .chart[data-chart=loss] .uplot");
        Assert.Contains($"/compare?run={teacher}&run={fused}", page.Url);
        Assert.Equal("2", await page.GetAttributeAsync(".chart[data-chart=loss]", "data-series"));
        Assert.Equal(3, await page.Locator(".chart[data-chart=loss] .u-legend .u-series").CountAsync());
        var header = await page.InnerTextAsync("#evaluation tr:first-child");
        Assert.Contains($"run {teacher}", header);
        Assert.Contains($"run {fused}", header);
        Assert.Contains("student", await page.InnerTextAsync("#evaluation"));
        var bars = (await Json(session, $"/compare/charts.json?run={teacher}&run={fused}")).GetProperty("charts").EnumerateArray()
            .Single(c => c.GetProperty("id").GetString() == "bpb");
        Assert.Contains($"student\nrun {teacher}", bars.GetProperty("categories").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal(3, await page.Locator(".chart[data-chart=bpb] .u-legend .u-series").CountAsync());
        await session.Screenshot("compare.png");
        Assert.Empty(session.Errors);
    }

    [Fact]
    public async Task FailedRun_ShowsWhyItFailed_InTheTableAndOnItsPage_NotEmptyCharts()
    {
        var db = postgres.NewDatabase();
        Migrator.Apply(db);
        var store = new LineageStore(db);
        var recipe = store.RecordRecipe("broken", "# resolved from /nowhere/broken.yaml\nname: broken\n");
        var run = store.StartRun(recipe, 1, new Dictionary<string, string>());
        const string reason = "teacher 'press': /models/press/config.json does not exist";
        store.FinishRun(run, RunStatus.Failed, reason, badInput: true);

        await using var session = await DashboardSession.Start(db, Path.Combine(TempDir, "cache"));
        var page = session.Page;
        await page.GotoAsync(session.Url + "/");
        Assert.Equal(reason, (await page.InnerTextAsync("#runs .why")).Trim());
        await page.ClickAsync($"#runs a[href='/runs/{run}']");
        Assert.StartsWith(reason, (await page.InnerTextAsync("#failure")).Trim());
        Assert.Contains("bad-input", await page.InnerTextAsync("#failure"));
        Assert.Equal(0, await page.Locator("#plots").CountAsync());
        await session.Screenshot("failed-run.png");
        Assert.Empty(session.Errors);
    }
}
