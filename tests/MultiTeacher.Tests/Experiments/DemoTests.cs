using System.Globalization;
using MultiTeacher.Data;
using MultiTeacher.Evaluation;
using MultiTeacher.Experiments;
using MultiTeacher.Models;
using MultiTeacher.Tests.Cli;
using MultiTeacher.Tests.Integration;
using MultiTeacher.Tests.Lineage;
using MultiTeacher.Tokenization;
using Xunit.Abstractions;

namespace MultiTeacher.Tests.Experiments;

[Trait("Category", TestCategory.Database)]
[Collection("postgres")]
public sealed class DemoTests(PostgresFixture postgres, ITestOutputHelper log) : TempDirectoryTest
{
    [Fact]
    public void Demo_RecordsItsHeldOutTableWithEachRun_SoShowPrintsTheSameNumbers()
    {
        var db = postgres.NewDatabase();
        var runs = new TinyRuns(TempDir);
        var config = runs.WriteConfig("tiny", "mistral", 32000);
        var recipes = Directory.CreateDirectory(Path.Combine(TempDir, "recipes")).FullName;
        // The demo's five recipes in miniature, reading ${MT_DEMO} and ${MT_ASSETS} as the shipped ones do.
        void Write(string name, string train, string? teachers = null) => File.WriteAllText(Path.Combine(recipes, name + ".yaml"), $"""
            # mt demo
            name: tiny-{name}
            seed: 5
            data:
              train: ${"{"}MT_DEMO{"}"}/data/{train}.txt
              seq_len: 32
            {teachers ?? ""}
            student:
              config: {config}
              tokenizer: ${"{"}MT_ASSETS{"}"}/tokenizers/mistral-7b-v0.1
            train: {"{"} steps: 2, batch_size: 2, lr: 0.003, teachers: online {"}"}
            output: ${"{"}MT_DEMO{"}"}/runs/{name}
            """);
        foreach (var genre in new[] { "press", "learned", "fiction" }) Write($"teacher-{genre}", genre);
        Write("student-baseline", "mixed");
        Write("student-fused", "mixed", "teachers:" + string.Concat(new[] { "press", "learned", "fiction" }.Select(g =>
            $"\n  - name: {g}\n    path: ${{MT_DEMO}}/runs/teacher-{g}/student")));

        var work = Path.Combine(TempDir, "work");
        var progress = new StringWriter();
        var models = Demo.Train(new DemoSettings(new DemoPaths(TestAssets.Store.Root, work), recipes, db), progress, CancellationToken.None);
        log.WriteLine(progress.ToString());

        Assert.Equal(Demo.Recipes, models.Select(m => m.Name));
        var table = Demo.HeldOutTable(models);
        Assert.Equal(["model", "press", "learned", "fiction", "all"], table.Columns);
        foreach (var model in models)
        {
            var (code, output, error) = CliRunner.Run("", "show", model.RunId.ToString(CultureInfo.InvariantCulture), "--database", db);
            Assert.True(code == 0, error);
            foreach (var (column, value) in model.HeldOut)
                Assert.Matches($@"bpb/heldout_{column}\s*│\s*{System.Text.RegularExpressions.Regex.Escape(value.ToString("G5", CultureInfo.InvariantCulture))}\s*│", output);
        }

        // "all" is every genre's bits over every genre's bytes, recomputed here from the held-out files.
        var fused = models.Single(m => m.Name == "student-fused");
        using var lm = PretrainedModel.Load(fused.Directory);
        var tokenizer = HfTokenizer.FromDirectory(fused.Directory);
        double bits = 0, bytes = 0;
        foreach (var genre in new[] { "press", "learned", "fiction" })
        {
            var r = BitsPerByte.Evaluate(lm, tokenizer, TextCorpus.Load(Path.Combine(work, "data", $"heldout-{genre}.txt")), 64, 30_000);
            Assert.Equal(r.BitsPerByte, fused.HeldOut[genre], 12);
            (bits, bytes) = (bits + r.BitsPerByte * r.Bytes, bytes + r.Bytes);
        }
        Assert.Equal(bits / bytes, fused.HeldOut["all"], 12);
        Assert.NotEqual(new[] { "press", "learned", "fiction" }.Average(g => fused.HeldOut[g]), fused.HeldOut["all"], 6);
    }
}
