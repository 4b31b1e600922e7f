using MultiTeacher.Dashboard.Charts;
using MultiTeacher.Reporting;
using System.Text.RegularExpressions;
using MultiTeacher.Dashboard.Pages;
using MultiTeacher.Lineage;
using MultiTeacher.Tests.Cli;
using MultiTeacher.Tests.Integration;
using MultiTeacher.Tests.Lineage;

namespace MultiTeacher.Tests.Runs;

/// <summary>One metric naming scheme across metrics.jsonl, lineage.metrics and the dashboard, checked on a real tiny run.</summary>
[Trait("Category", TestCategory.Database)]
[Collection("postgres")]
public sealed class MetricNamesTests(PostgresFixture postgres) : TempDirectoryTest
{
    // snake_case words joined by '/', the last member may be a teacher name as the recipe spells it.
    private static readonly Regex Scheme = new(@"^[a-z][a-z0-9_]*(/[a-z][a-z0-9_]*)*(/[A-Za-z0-9][A-Za-z0-9._-]*)?$");

    [Theory]
    [InlineData("weight:llama")]
    [InlineData("bpb:teacher llama")]
    [InlineData("blend:top1_agreement")]
    [InlineData("TeacherWeight")]
    [InlineData("bpb/student (initial)")]
    public void TheSchemeRegex_RejectsTheEarlierNames(string name) => Assert.DoesNotMatch(Scheme, name);

    [Fact]
    public void ATinyRun_RecordsEveryMetricUnderTheScheme_InMetricsJsonl_TheDatabase_AndTheRunPage()
    {
        var db = postgres.NewDatabase();
        var runs = new TinyRuns(TempDir);
        runs.WriteData(trainDocuments: 1, trainChars: 2000);
        var teacher = runs.WriteTeacher("Llama-3.2_x", "llama", "llama3", 128256, seed: 201);
        var config = runs.WriteConfig("student", "qwen2", 32000);
        var recipe = runs.WriteRecipe("names", $"""
            seed: 3
            data: {"{"} train: train.txt, eval: eval.txt, seq_len: 32 {"}"}
            teachers:
              - {"{"} name: Llama-3.2_x, path: {teacher} {"}"}
            student: {"{"} config: {config}, tokenizer: {TestAssets.TokenizerDir("mistral-7b-v0.1")} {"}"}
            alignment: {"{"} top_k: 8 {"}"}
            train: {"{"} steps: 4, batch_size: 2 {"}"}
            eval: {"{"} every: 2, max_bytes: 1500 {"}"}
            """);
        var (code, _, error) = CliRunner.Run("", "run", recipe, "--database", db);
        Assert.True(code == 0, error);
        var store = new LineageStore(db);
        var runId = store.Runs().Single().Id;
        var recorded = store.Metrics(runId);

        var names = recorded.Keys.Select(k => k.Name).ToHashSet();
        Assert.All(names, n => Assert.Matches(Scheme, n));
        Assert.Superset(new HashSet<string>
        {
            "loss", "ce", "kd", "lr", "grad_norm", "tokens_per_s", "eval_bpb", "weight/Llama-3.2_x", "coverage/Llama-3.2_x",
            "bpb/student", "bpb/student_initial", "bpb/teacher/Llama-3.2_x", "blend/top1", "blend/kl",
        }, names);

        // Each metrics.jsonl line holds "step" and exactly the rows lineage holds for that step, under the same names.
        var lines = runs.Metrics("names");
        Assert.Equal(4, lines.Count);
        foreach (var line in lines)
        {
            var step = line.GetProperty("step").GetInt32();
            var keys = line.EnumerateObject().Select(p => p.Name).Where(k => k != "step").ToList();
            Assert.All(keys, k => Assert.Matches(Scheme, k));
            // Held-out bits per byte and the blend agreement are measured once, after training: not step rows.
            var stepRows = recorded.Keys.Where(k => k.Step == step && !k.Name.StartsWith("bpb/", StringComparison.Ordinal) && !k.Name.StartsWith("blend/", StringComparison.Ordinal));
            Assert.Equal(stepRows.Select(k => k.Name).Order(StringComparer.Ordinal), keys.Order(StringComparer.Ordinal));
            foreach (var key in keys) Assert.Equal(recorded[(step, key)], line.GetProperty(key).GetDouble());
        }

        // The run page charts the renamed series: one weight and one coverage line per teacher, labelled with its name.
        var charts = RunCharts.Build([RunSeries.Read(store, runId)], new TeacherPalette(store.TeacherNames()));
        foreach (var id in new[] { "weight", "coverage" })
        {
            var chart = charts.Single(c => c.Id == id);
            Assert.Equal("Llama-3.2_x", Assert.Single(chart.Series).Label);
            Assert.Equal(4, chart.Series[0].Values.Count(v => v is not null));
        }
        Assert.Contains("teacher/Llama-3.2_x", charts.Single(c => c.Id == "bpb").Categories!);
        var page = RunPage.Render(store, runId, null);
        var evaluation = Regex.Match(page, "<table[^>]*id=\"evaluation\".*?</table>", RegexOptions.Singleline).Value;
        Assert.Contains("teacher/Llama-3.2_x", evaluation);
        Assert.Contains("student_initial", evaluation);
        Assert.Contains("top-1 agreement", page);
    }
}
