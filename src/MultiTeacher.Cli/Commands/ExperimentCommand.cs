using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using MultiTeacher.Assets;
using MultiTeacher.Evaluation;
using MultiTeacher.Models;
using MultiTeacher.Recipes;
using MultiTeacher.Tokenization;
using Spectre.Console;

namespace MultiTeacher.Cli.Commands;

/// <summary>
/// `mt experiment`: is fusing three teachers worth it? Trains every recipe of recipes/experiments
/// (same student, data, steps and seed; hard labels, each single teacher, six mixing policies, three
/// projections) as lineage-recorded jobs on the demo's teachers, scores every held-out document of
/// each genre, and writes the report with confidence intervals and plots.
/// </summary>
public static class ExperimentCommand
{
    private static readonly string[] DemoTeachers = ["teacher-press", "teacher-learned", "teacher-fiction"];

    public static Command Create(CliIO io)
    {
        var assets = new Option<string>("--assets") { Description = "Asset directory (default: $MT_ASSETS or ~/.cache/multiteacher/assets)" };
        var work = new Option<string>("--work") { Description = "Demo working directory holding the teachers and data (default: $MT_DEMO or ./runs/demo)" };
        var recipes = new Option<string>("--recipes") { Description = "Directory of the experiment's recipes (default: recipes/experiments of this repository)" };
        var report = new Option<string>("--report") { Description = "Report to write; plots go to a folder of the same name (default: docs/experiment.md of this repository)" };
        var documents = new Option<int>("--documents") { Description = "Held-out documents to score per genre, the last ones first (default: all 8)", DefaultValueFactory = _ => 8 };
        var reuse = new Option<bool>("--reuse") { Description = "Score students already trained by an earlier run of the experiment instead of training them again" };
        var command = new Command("experiment", "Trains and compares the experiment's students (hard labels, single teachers, every mixing policy and projection) with confidence intervals over held-out documents.")
            { assets, work, recipes, report, reuse, documents, RunCommand.DatabaseOption };
        command.SetAction((r, cancel) =>
        {
            var store = new AssetStore(r.GetValue(assets) ?? AssetStore.DefaultRoot());
            var root = Path.GetFullPath(r.GetValue(work) ?? Environment.GetEnvironmentVariable("MT_DEMO") ?? Path.Combine("runs", "demo"));
            Environment.SetEnvironmentVariable("MT_ASSETS", store.Root);
            Environment.SetEnvironmentVariable("MT_DEMO", root);
            var recipeDir = r.GetValue(recipes) ?? DemoCommand.FindRecipes("experiments");
            var reportPath = Path.GetFullPath(r.GetValue(report) ?? Path.Combine(recipeDir, "..", "..", "docs", "experiment.md"));
            if (r.GetValue(documents) is < 2 or > 8) throw new BadInputException("--documents must be between 2 and 8 (an interval needs two)");
            return Task.FromResult(Run(store, root, recipeDir, reportPath, r.GetValue(reuse), r.GetValue(documents), r.GetValue(RunCommand.DatabaseOption), io, cancel));
        });
        return command;
    }

    private static int Run(AssetStore store, string root, string recipeDir, string reportPath, bool reuse, int documents, string? database, CliIO io, CancellationToken cancel)
    {
        DemoData.Write(store.Require("corpora/brown"), root);
        var total = Stopwatch.StartNew();
        var results = new List<ExperimentRun>();
        using (var jobs = new LocalJobs("experiment", database))
        {
            foreach (var teacher in DemoTeachers.Where(t => !File.Exists(Path.Combine(root, "runs", t, "student", "model.safetensors"))))
            {
                io.Out.WriteLine($"training the demo's {teacher} first");
                jobs.Run(teacher, RecipeLoader.Load(Path.Combine(DemoCommand.FindRecipes(), teacher + ".yaml")), cancel);
            }
            // Baseline first, then single teachers, then the fused students: the order of the report's rows.
            var recipes = Directory.EnumerateFiles(recipeDir, "*.yaml").Select(path => (Name: Path.GetFileNameWithoutExtension(path), Path: path))
                .OrderBy(r => r.Name == "hard-label" ? 0 : r.Name.StartsWith("single-", StringComparison.Ordinal) ? 1 : 2).ThenBy(r => r.Name, StringComparer.Ordinal)
                .Select(r => (r.Name, Recipe: RecipeLoader.Load(r.Path))).ToList();
            foreach (var (name, recipe) in recipes)
            {
                var student = Path.Combine(recipe.Output, "student");
                var metrics = Path.Combine(recipe.Output, "metrics.jsonl");
                if (reuse && File.Exists(Path.Combine(student, "model.safetensors")) && File.Exists(metrics))
                {
                    io.Out.WriteLine($"  {name,-26} reused from {recipe.Output}");
                    results.Add(new ExperimentRun(name, recipe, jobs.Lineage.LatestSucceeded(recipe.Name)?.Id, ExperimentReport.LossCurve(metrics), Reused: true));
                    continue;
                }
                var watch = Stopwatch.StartNew();
                var (runId, loss) = jobs.Run(name, recipe, cancel);
                io.Out.WriteLine($"  {name,-26} run {runId,-4} loss {loss[0].Loss:F3} → {loss[^1].Loss:F3} in {watch.Elapsed.TotalSeconds:F0} s");
                results.Add(new ExperimentRun(name, recipe, runId, loss));
            }
        }

        io.Out.WriteLine($"scoring {documents} held-out documents per genre");
        var heldOut = DemoData.HeldOut(store.Require("corpora/brown"))
            .Select(g => (g.Genre, Documents: (IReadOnlyList<Corpora.BrownDocument>)g.Documents.TakeLast(documents).ToList())).ToList();
        var models = results.Select(r => (r.Name, Directory: Path.Combine(r.Recipe.Output, "student")))
            .Concat(DemoTeachers.Select(t => ($"({t})", Path.Combine(root, "runs", t, "student")))).ToList();
        var scores = new Dictionary<string, Dictionary<string, double[]>>();
        foreach (var (name, dir) in models)
        {
            using var model = PretrainedModel.Load(dir);
            var tokenizer = HfTokenizer.FromDirectory(dir);
            scores[name] = heldOut.ToDictionary(g => g.Genre,
                g => BitsPerByte.PerDocument(model, tokenizer, g.Documents.Select(d => d.Text), 64).Select(s => s.BitsPerByte).ToArray());
        }
        io.Out.WriteLine($"scored in {total.Elapsed.TotalSeconds:F0} s from the start");
        var report = new ExperimentReport(results, heldOut, scores, total.Elapsed);
        report.Write(reportPath);
        io.Tables().Write(report.ConsoleTable());
        foreach (var line in report.Verdicts()) io.Out.WriteLine(line);
        io.Out.WriteLine($"\nreport: {reportPath}");
        return CliApp.Ok;
    }
}

/// <summary>One trained student of the experiment: its recipe, its lineage run (the newest succeeded one when reused) and its training loss.</summary>
public sealed record ExperimentRun(string Name, Recipe Recipe, long? RunId, IReadOnlyList<(int Step, double Loss)> Loss, bool Reused = false);
