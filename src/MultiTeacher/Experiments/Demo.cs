using System.Diagnostics;
using System.Globalization;
using MultiTeacher.Runs;
using MultiTeacher.Data;
using MultiTeacher.Evaluation;
using MultiTeacher.Models;
using MultiTeacher.Reporting;
using MultiTeacher.Tokenization;

namespace MultiTeacher.Experiments;

/// <summary>Settings of the demo: its directories, the folder of its recipes, and the lineage database (null: the default one).</summary>
public sealed record DemoSettings(DemoPaths Paths, string Recipes, string? Database = null);

/// <summary>One trained model of the demo: its lineage run, its student directory and its held-out bits per byte per genre and over all genres.</summary>
public sealed record DemoModel(string Name, long RunId, string Directory, IReadOnlyDictionary<string, double> HeldOut);

/// <summary>
/// The demo's training: three teachers, the hard-label baseline and the fused student, each a real
/// run (Hangfire jobs on an in-process worker, recorded in lineage), then every model's held-out
/// bits per byte on the same bytes of each genre, recorded with its run as bpb/heldout_GENRE.
/// </summary>
public static class Demo
{
    public static readonly IReadOnlyList<string> Recipes = ["teacher-press", "teacher-learned", "teacher-fiction", "student-baseline", "student-fused"];

    /// <summary>Name of the all-genres column (bits over bytes of every genre, so genres weigh by their size).</summary>
    public const string AllGenres = HeldOutEvaluation.All;

    private const int Window = 64, MaxBytes = 30_000;

    public static IReadOnlyList<DemoModel> Train(DemoSettings settings, TextWriter log, CancellationToken cancel)
    {
        var root = settings.Paths.Work;
        DemoData.Write(settings.Paths.Store.Require("corpora/brown"), root);
        log.WriteLine($"\nTraining (data and runs under {root}):");
        var models = new List<DemoModel>();
        using var jobs = new LocalJobs("demo", settings.Database);
        foreach (var name in Recipes)
        {
            var recipe = settings.Paths.Load(Path.Combine(settings.Recipes, $"{name}.yaml"));
            var watch = Stopwatch.StartNew();
            var (runId, loss) = jobs.Run(name, recipe, cancel);
            var teachers = recipe.Teachers.Count == 0 ? "hard labels only" : $"{recipe.Teachers.Count} teachers, {recipe.Mixing.Policy} mixing";
            log.WriteLine($"  {name,-17} run {runId,-4} {recipe.Train.Steps} steps, {teachers}: loss {loss[0].Loss:F3} → {loss[^1].Loss:F3} in {watch.Elapsed.TotalSeconds:F0} s");
            var student = Path.Combine(recipe.Output, "student");
            var heldOut = HeldOut(student, root);
            jobs.Lineage.AppendMetrics(runId, heldOut.Select(h => (recipe.Train.Steps, MetricNames.HeldOutBitsPerByte(h.Key), h.Value)).ToList());
            models.Add(new DemoModel(name, runId, student, heldOut));
        }
        return models;
    }

    /// <summary>Held-out bits per byte of a model directory on each genre's held-out file under the demo's data, and over all of them.</summary>
    public static IReadOnlyDictionary<string, double> HeldOut(string modelDirectory, string root) =>
        HeldOutEvaluation.Score(modelDirectory, DemoData.Genres.Select(g => (g.Name, Path.Combine(root, "data", $"heldout-{g.Name}.txt"))).ToList(), Window, MaxBytes);

    /// <summary>The demo's headline table: one row per model, one column per genre and one over all genres.</summary>
    public static TextTable HeldOutTable(IReadOnlyList<DemoModel> models)
    {
        IReadOnlyList<string> columns = ["model", .. DemoData.Genres.Select(g => g.Name), AllGenres];
        var rows = models.Select(m => (IReadOnlyList<string>)[m.Name, .. columns.Skip(1).Select(c => m.HeldOut[c].ToString("F4", CultureInfo.InvariantCulture))]).ToList();
        return new TextTable("Held-out bits per byte (lower is better), same bytes for every model", columns, rows);
    }
}
