using System.Diagnostics;
using MultiTeacher.Corpora;
using MultiTeacher.Evaluation;
using MultiTeacher.Models;
using MultiTeacher.Pipelines;
using MultiTeacher.Recipes;
using MultiTeacher.Tokenization;

namespace MultiTeacher.Experiments;

/// <summary>
/// Settings of the experiment: the demo's directories (its teachers are the experiment's), the
/// folder of its recipes, where the report goes, whether students trained earlier are rescored
/// instead of trained again, how many held-out documents per genre are scored, and the lineage database.
/// </summary>
public sealed record ExperimentSettings(DemoPaths Paths, string Recipes, string Report, bool Reuse = false, int Documents = 8, string? Database = null)
{
    public const int MinDocuments = 2, MaxDocuments = 8;
}

/// <summary>One trained student of the experiment: its recipe, its lineage run (the newest succeeded one when reused) and its training loss.</summary>
public sealed record ExperimentRun(string Name, Recipe Recipe, long? RunId, IReadOnlyList<(int Step, double Loss)> Loss, bool Reused = false);

/// <summary>One pipeline of the experiment (a recipe file with stages), run after every recipe so it may start from their students.</summary>
public sealed record ExperimentPipeline(string Name, Pipeline Pipeline, long? RunId, bool Reused = false)
{
    /// <summary>Every model a stage makes, named PIPELINE.STAGE, in the pipeline's order.</summary>
    public IEnumerable<(string Name, string Directory)> Models => Pipeline.Order
        .Where(s => Pipeline.Stage(s).Kind != PipelineStageKind.Evaluate).Select(s => ($"{Name}.{s}", Pipeline.OutputOf(s)));
}

/// <summary>
/// The experiment: trains every recipe of its folder as a run (the demo's teachers first where
/// missing), then runs its pipelines, scores every student, pipeline model and teacher per held-out
/// document, and writes the report.
/// </summary>
public static class Experiment
{
    private static readonly string[] DemoTeachers = ["teacher-press", "teacher-learned", "teacher-fiction"];
    private const int Window = 64;

    public static ExperimentReport Run(ExperimentSettings settings, TextWriter log, CancellationToken cancel)
    {
        if (settings.Documents is < ExperimentSettings.MinDocuments or > ExperimentSettings.MaxDocuments)
            throw new BadInputException($"--documents must be between {ExperimentSettings.MinDocuments} and {ExperimentSettings.MaxDocuments} (an interval needs two)");
        var root = settings.Paths.Work;
        var brown = settings.Paths.Store.Require("corpora/brown");
        DemoData.Write(brown, root);
        var total = Stopwatch.StartNew();
        var (results, pipelines) = Train(settings, log, cancel);

        log.WriteLine($"scoring {settings.Documents} held-out documents per genre");
        var heldOut = DemoData.HeldOut(brown)
            .Select(g => (g.Genre, Documents: (IReadOnlyList<BrownDocument>)g.Documents.TakeLast(settings.Documents).ToList())).ToList();
        var models = results.Select(r => (r.Name, Directory: Path.Combine(r.Recipe.Output, "student")))
            .Concat(pipelines.SelectMany(p => p.Models))
            .Concat(DemoTeachers.Select(t => ($"({t})", TeacherStudent(root, t)))).ToList();
        var scores = new Dictionary<string, Dictionary<string, double[]>>();
        foreach (var (name, dir) in models)
        {
            using var model = PretrainedModel.Load(dir);
            var tokenizer = HfTokenizer.FromDirectory(dir);
            scores[name] = heldOut.ToDictionary(g => g.Genre,
                g => BitsPerByte.PerDocument(model, tokenizer, g.Documents.Select(d => d.Text), Window).Select(s => s.BitsPerByte).ToArray());
        }
        log.WriteLine($"scored in {total.Elapsed.TotalSeconds:F0} s from the start");
        var report = new ExperimentReport(results, heldOut, scores, total.Elapsed, pipelines);
        report.Write(settings.Report);
        return report;
    }

    private static string TeacherStudent(string root, string teacher) => Path.Combine(root, "runs", teacher, "student");

    private static (List<ExperimentRun> Runs, List<ExperimentPipeline> Pipelines) Train(ExperimentSettings settings, TextWriter log, CancellationToken cancel)
    {
        var results = new List<ExperimentRun>();
        using var jobs = new LocalJobs("experiment", settings.Database);
        foreach (var teacher in DemoTeachers.Where(t => !File.Exists(Path.Combine(TeacherStudent(settings.Paths.Work, t), "model.safetensors"))))
        {
            log.WriteLine($"training the demo's {teacher} first");
            jobs.Run(teacher, settings.Paths.Load(Path.Combine(DemoPaths.FindRecipes(), teacher + ".yaml")), cancel);
        }
        // Baseline first, then single teachers, then the fused students: the order of the report's rows.
        var files = Directory.EnumerateFiles(settings.Recipes, "*.yaml").Order(StringComparer.Ordinal).ToList();
        var recipes = files.Where(f => !PipelineLoader.IsPipeline(f)).Select(path => (Name: Path.GetFileNameWithoutExtension(path), Path: path))
            .OrderBy(r => r.Name == "hard-label" ? 0 : r.Name.StartsWith("single-", StringComparison.Ordinal) ? 1 : 2).ThenBy(r => r.Name, StringComparer.Ordinal)
            .Select(r => (r.Name, Recipe: settings.Paths.Load(r.Path))).ToList();
        foreach (var (name, recipe) in recipes)
        {
            var metrics = Path.Combine(recipe.Output, "metrics.jsonl");
            if (settings.Reuse && File.Exists(Path.Combine(recipe.Output, "student", "model.safetensors")) && File.Exists(metrics))
            {
                log.WriteLine($"  {name,-26} reused from {recipe.Output}");
                results.Add(new ExperimentRun(name, recipe, jobs.Lineage.LatestSucceeded(recipe.Name)?.Id, ExperimentReport.LossCurve(metrics), Reused: true));
                continue;
            }
            var watch = Stopwatch.StartNew();
            var (runId, loss) = jobs.Run(name, recipe, cancel);
            log.WriteLine($"  {name,-26} run {runId,-4} loss {loss[0].Loss:F3} → {loss[^1].Loss:F3} in {watch.Elapsed.TotalSeconds:F0} s");
            results.Add(new ExperimentRun(name, recipe, runId, loss));
        }
        var pipelines = new List<ExperimentPipeline>();
        foreach (var file in files.Where(PipelineLoader.IsPipeline))
        {
            // Loaded only now: a pipeline's inputs may be students trained above, and loading checks that they exist.
            var (name, pipeline) = (Path.GetFileNameWithoutExtension(file), PipelineLoader.Load(file, settings.Paths.RecipeVariables));
            var made = pipeline.Settings.Stages.All(s => Path.Exists(pipeline.OutputOf(s.Name)));
            if (settings.Reuse && made)
            {
                log.WriteLine($"  {name,-26} reused from {pipeline.Settings.Output}");
                pipelines.Add(new ExperimentPipeline(name, pipeline, jobs.Lineage.LatestSucceeded(pipeline.Name)?.Id, Reused: true));
                continue;
            }
            var watch = Stopwatch.StartNew();
            var runId = jobs.Run(name, pipeline, cancel);
            log.WriteLine($"  {name,-26} run {runId,-4} {pipeline.Order.Count} stages in {watch.Elapsed.TotalSeconds:F0} s");
            pipelines.Add(new ExperimentPipeline(name, pipeline, runId));
        }
        return (results, pipelines);
    }
}
