using System.Globalization;
using System.Text.Json;
using MultiTeacher.Tests.Integration;
using MultiTeacher.Tests.Lineage;

namespace MultiTeacher.Tests.Cli;

/// <summary>A tiny two-teacher run reported by `mt runs/show/lineage/eval`, as tables' machine-readable twins and as the run measured itself.</summary>
[Trait("Category", TestCategory.Database)]
[Collection("postgres")]
public sealed class RunReportCommandTests(PostgresFixture postgres) : TempDirectoryTest
{
    private (string Database, long Run, string Output) TinyDistillation()
    {
        var db = postgres.NewDatabase();
        var runs = new TinyRuns(TempDir);
        runs.WriteData(trainDocuments: 2, trainChars: 3000);
        var llama = runs.WriteTeacher("llama", "llama", "llama3", 128256, seed: 1);
        var mistral = runs.WriteTeacher("mistral", "mistral", "mistral-7b-v0.1", 32000, seed: 2);
        var recipe = runs.WriteRecipe("tiny", $"""
            seed: 3
            data: {"{"} train: train.txt, eval: eval.txt, seq_len: 24 {"}"}
            teachers:
              - {"{"} name: llama, path: {llama} {"}"}
              - {"{"} name: mistral, path: {mistral} {"}"}
            student: {"{"} config: {runs.WriteConfig("student", "mistral", 32000)}, tokenizer: {TestAssets.TokenizerDir("mistral-7b-v0.1")} {"}"}
            alignment: {"{"} top_k: 8 {"}"}
            train: {"{"} steps: 3, batch_size: 2, lr: 0.005, warmup_steps: 1, log_every: 1 {"}"}
            eval: {"{"} max_bytes: 1500 {"}"}
            """);
        var (code, _, error) = CliRunner.Run("", "run", recipe, "--database", db);
        Assert.True(code == 0, error);
        using var runsJson = Json(CliRunner.Run("", "runs", "--json", "--database", db));
        return (db, runsJson.RootElement[0].GetProperty("id").GetInt64(), runs.Output("tiny"));
    }

    private static JsonDocument Json((int ExitCode, string Out, string Error) result)
    {
        Assert.True(result.ExitCode == 0, result.Error);
        return JsonDocument.Parse(result.Out);
    }

    [Fact]
    public void RunsShowLineageAndEval_PrintOneJsonDocumentWithSnakeCaseNames_AndEvalOfTheRunReproducesItsNumber()
    {
        var (db, run, output) = TinyDistillation();
        var id = run.ToString(CultureInfo.InvariantCulture);

        using (var runs = Json(CliRunner.Run("", "runs", "--json", "--database", db)))
        {
            var only = Assert.Single(runs.RootElement.EnumerateArray());
            Assert.Equal("tiny", only.GetProperty("recipe").GetString());
            Assert.Equal("succeeded", only.GetProperty("status").GetString());
            Assert.Equal(3, only.GetProperty("steps").GetInt32());
            Assert.Equal(JsonValueKind.String, only.GetProperty("finished_at").ValueKind);
        }

        double recorded;
        using (var show = Json(CliRunner.Run("", "show", id, "--json", "--database", db)))
        {
            var root = show.RootElement;
            Assert.Equal(run, root.GetProperty("run").GetProperty("id").GetInt64());
            Assert.Contains(root.GetProperty("stages").EnumerateArray(), s => s.GetProperty("kind").GetString() == "cache-teacher");
            var student = root.GetProperty("artifacts").EnumerateArray().Single(a => a.GetProperty("direction").GetString() == "produced" && a.GetProperty("kind").GetString() == "student");
            Assert.Equal(64, student.GetProperty("sha256").GetString()!.Length);
            Assert.True(student.GetProperty("size_bytes").GetInt64() > 0);
            var metric = root.GetProperty("metrics").EnumerateArray().Single(m => m.GetProperty("name").GetString() == "bpb/student");
            recorded = metric.GetProperty("last").GetDouble();
        }

        using (var lineage = Json(CliRunner.Run("", "lineage", id, "--json", "--database", db)))
        {
            var upstream = lineage.RootElement.GetProperty("upstream");
            Assert.StartsWith($"run {id} tiny", upstream.GetProperty("label").GetString());
            Assert.Contains(upstream.GetProperty("children").EnumerateArray(), c => c.GetProperty("label").GetString()!.StartsWith("teacher:llama: "));
        }

        // The run's number, by default: seq_len 24 as the window, its eval file and max_bytes, whether named by run or by its student's directory.
        foreach (var args in new[] { new[] { "--run", id, "--database", db }, ["--model", Path.Combine(output, "student")] })
        {
            using var eval = Json(CliRunner.Run("", ["eval", "--json", .. args]));
            Assert.Equal(24, eval.RootElement.GetProperty("window").GetInt32());
            Assert.Equal(1500, eval.RootElement.GetProperty("max_bytes").GetInt64());
            Assert.Equal(recorded, eval.RootElement.GetProperty("result").GetProperty("bits_per_byte").GetDouble(), 9);
        }
        // A window other than the run's gives another number: the default above was not a coincidence.
        using var other = Json(CliRunner.Run("", "eval", "--json", "--run", id, "--window", "8", "--database", db));
        Assert.NotEqual(recorded, other.RootElement.GetProperty("result").GetProperty("bits_per_byte").GetDouble(), 6);
    }
}
