using System.Diagnostics;
using System.Globalization;
using MultiTeacher.Corpora;
using MultiTeacher.Losses;
using MultiTeacher.Recipes;
using MultiTeacher.Teachers;

namespace MultiTeacher.Experiments.Twins;

/// <summary>
/// One point of the ALM grid searched on validation: τ, γ, and how the hard-label CE and the ALM
/// terms are weighed: α·CE + (1−α)·ALM, or by gradient balancing (<see cref="Balance"/>).
/// </summary>
public sealed record AlmChoice(double Temperature, double Gamma, double HardLabelWeight = 0.5, bool Balance = false)
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public string Label => string.Create(Inv, $"t{Temperature:0.###}-g{Gamma:0.###}-{(Balance ? "balanced" : $"a{HardLabelWeight:0.###}")}");

    /// <summary>How CE and the ALM terms are weighed, in words.</summary>
    public string Weighing => Balance ? "gradient balancing" : string.Create(Inv, $"α {HardLabelWeight}");

    public IReadOnlyList<string> Overrides => [string.Create(Inv, $"loss.alm_temperature={Temperature:R}"),
        string.Create(Inv, $"loss.alm_gamma={Gamma:R}"), string.Create(Inv, $"loss.hard_label_weight={HardLabelWeight:R}"),
        $"loss.balance={(Balance ? "true" : "false")}"];
}

/// <summary>
/// Settings of the tokenizer-swap experiment: the demo's directories, its recipe folder (teachers/
/// and students/), the report, reuse of earlier runs, seeds per student, the ALM grid searched on
/// validation (one point: no search), test and validation documents per genre, overrides applied to
/// every recipe (tiny runs in tests), the lineage database, the size of the students' text, and
/// which student recipes to run (null: all).
/// </summary>
public sealed record TwinsSettings(DemoPaths Paths, string Recipes, string Report, bool Reuse = false, int Seeds = 3,
    IReadOnlyList<AlmChoice>? Grid = null, int TestDocuments = TwinsData.TestDocuments, int ValidationDocuments = TwinsData.ValidationDocuments,
    IReadOnlyList<string>? Overrides = null, string? Database = null, int MixedCharacters = TwinsData.MixedCharacters,
    IReadOnlyDictionary<string, int>? StudentSeeds = null, IReadOnlyList<string>? Students = null)
{
    /// <summary>
    /// Whether a student recipe is run: every one without <see cref="Students"/>, else those it
    /// names, a name ending in * standing for every recipe that begins with the rest.
    /// </summary>
    public bool Runs(string student) => Students is null || Students.Any(p => Names(p, student));

    /// <summary>Whether one --students entry names a recipe: the name itself, or with a trailing * every name beginning with the rest.</summary>
    public static bool Names(string entry, string student) =>
        entry.EndsWith('*') ? student.StartsWith(entry[..^1], StringComparison.Ordinal) : student == entry;

    /// <summary>The report's default place: docs/experiment-twins.md of the repository the recipe folder belongs to.</summary>
    public static string DefaultReport(string recipes) => Path.GetFullPath(Path.Combine(RepositoryOf(recipes), "docs", "experiment-twins.md"));

    private static string RepositoryOf(string recipes) => Path.GetFullPath(Path.Combine(recipes, "..", "..", ".."));

    /// <summary>
    /// The `mt experiment` command line that runs these settings again: the options that differ
    /// from their defaults, the report as a path under the repository the recipes belong to.
    /// </summary>
    public string CommandLine()
    {
        var parts = new List<string> { "mt experiment --suite twins" };
        if (Reuse) parts.Add("--reuse");
        if (Seeds != 3) parts.Add(string.Create(CultureInfo.InvariantCulture, $"--seeds {Seeds}"));
        foreach (var (name, n) in (StudentSeeds ?? new Dictionary<string, int>()).OrderBy(kv => kv.Key, StringComparer.Ordinal))
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"--student-seeds {Quote($"{name}={n}")}"));
        if (TestDocuments != TwinsData.TestDocuments) parts.Add(string.Create(CultureInfo.InvariantCulture, $"--documents {TestDocuments}"));
        if (Students is { } only) parts.Add("--students " + string.Join(' ', only.Select(Quote)));
        var root = RepositoryOf(Recipes);
        var report = Path.GetFullPath(Report);
        if (report != DefaultReport(Recipes))
            parts.Add("--report " + Quote(report.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal) ? Path.GetRelativePath(root, report) : report));
        return string.Join(' ', parts);
    }

    private static string Quote(string word) =>
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "_./=:-".Contains(c)) ? word : "'" + word.Replace("'", "'\\''") + "'";

    /// <summary>Seeds of one student recipe: <see cref="Seeds"/> unless <see cref="StudentSeeds"/> names it (a student too slow for every seed).</summary>
    public int SeedsOf(string student) => StudentSeeds is not null && StudentSeeds.TryGetValue(student, out var n) ? n : Seeds;

    /// <summary>
    /// At the τ the paper reports best and its γ: CE and ALM at α 0.5, at α 0.1 (ALM's term is
    /// orders of magnitude below CE's), and by gradient balancing, the reference code's default.
    /// </summary>
    public static readonly IReadOnlyList<AlmChoice> DefaultGrid = [new(5, 0.1), new(5, 0.1, 0.1), new(5, 0.1, Balance: true)];

    public IReadOnlyList<AlmChoice> AlmGrid => Grid ?? DefaultGrid;
}

/// <summary>A trained model of the experiment: its name, seed (0 for teachers), directory, lineage run, whether an earlier run's model was reused, its final loss and steps.</summary>
public sealed record TwinsModel(string Name, int Seed, string Directory, long? RunId, bool Reused, double FinalLoss, int Steps = 0);

/// <summary>
/// The tokenizer-swap control: teacher twins per genre (same architecture, data, steps and seed;
/// the student's tokenizer or a foreign one), ALM's τ and γ chosen on validation documents, every
/// student recipe trained for each seed, and every model scored per test document.
/// </summary>
public static class TwinsSuite
{
    private const string Teachers = "teachers", Students = "students", TuneRecipe = "foreign-alm";

    public static TwinsReport Run(TwinsSettings settings, TextWriter log, CancellationToken cancel)
    {
        if (settings.Seeds < 1 || settings.StudentSeeds?.Values.Any(n => n < 1) == true) throw new BadInputException("--seeds must be at least 1");
        foreach (var needed in new[] { TwinsFigures.HardLabel, TwinsFigures.SameTokenizer })
            if (!settings.Runs(needed)) throw new BadInputException($"--students must include {needed}: every comparison is made against it");
        if (settings.TestDocuments is < 2 or > TwinsData.TestDocuments || settings.ValidationDocuments is < 1 or > TwinsData.ValidationDocuments)
            throw new BadInputException($"--documents must be between 2 and {TwinsData.TestDocuments}");
        var recipes = StudentRecipes(settings);
        var total = Stopwatch.StartNew();
        var work = settings.Paths.Work;
        var splits = TwinsData.Write(settings.Paths.Store.Require("corpora/brown"), work, settings.MixedCharacters)
            .Select(s => s with { Validation = s.Validation.TakeLast(settings.ValidationDocuments).ToList(), Test = s.Test.TakeLast(settings.TestDocuments).ToList() }).ToList();
        var scorer = new TwinsScorer(splits);
        using var jobs = new LocalJobs("twins", settings.Database);

        log.WriteLine("teacher twins:");
        var teachers = Recipes(settings, Teachers).Select(r => Train(jobs, settings, r.Name, 0, r.Path, [], log, cancel)).ToList();

        var runs = WithKinds(settings, recipes);
        var grid = settings.AlmGrid;
        var tuning = new List<(AlmChoice Choice, TwinsModel Model, double Validation)>();
        var recipe = Path.Combine(settings.Recipes, Students, TuneRecipe + ".yaml");
        // A subset without the three-teacher ALM student has nothing to tune, and (checked above) no ALM student.
        if (grid.Count > 1 && settings.Runs(TuneRecipe))
        {
            log.WriteLine($"choosing ALM's tau and gamma on validation ({TuneRecipe}, seed 1):");
            foreach (var choice in grid)
            {
                var model = Train(jobs, settings, $"tune-{choice.Label}", 1, recipe, choice.Overrides, log, cancel);
                var validation = scorer.Validation(model.Directory);
                log.WriteLine($"  tau {choice.Temperature}, gamma {choice.Gamma}, {choice.Weighing}: validation {validation:F4} bits/byte");
                tuning.Add((choice, model, validation));
            }
        }
        var chosen = tuning.Count > 0 ? tuning.MinBy(t => t.Validation).Choice : grid[0];
        log.WriteLine($"students ({settings.Seeds} seeds; ALM at tau {chosen.Temperature}, gamma {chosen.Gamma}, {chosen.Weighing}):");
        var students = new List<TwinsModel>();
        foreach (var (name, path, alm) in runs)
        {
            for (var seed = 1; seed <= settings.SeedsOf(name); seed++)
            {
                // The search trained this very recipe at seed 1 at every point, the chosen one included.
                if (name == TuneRecipe && seed == 1 && tuning.Count > 0)
                {
                    students.Add(tuning.MinBy(t => t.Validation).Model with { Name = name });
                    continue;
                }
                students.Add(Train(jobs, settings, name, seed, path, alm ? chosen.Overrides : [], log, cancel));
            }
        }

        log.WriteLine($"scoring {splits.Sum(s => s.Test.Count)} test documents");
        string GenreOf(TwinsModel m) => splits.Single(s => m.Name.StartsWith(s.Genre + "-", StringComparison.Ordinal)).Genre;
        var scores = scorer.Test(teachers.Concat(students).ToList(), m => m.Seed == 0 ? GenreOf(m) : null);
        var mass = teachers.ToDictionary(t => t.Name, t => scorer.TopMass(t.Directory, splits.Single(s => s.Genre == GenreOf(t)).Test));
        var reference = students.First(s => s.Name == TwinsFigures.HardLabel && s.Seed == 1);
        var targets = teachers.ToDictionary(t => t.Name,
            t => scorer.Targets(t.Directory, reference.Directory, splits.Single(s => s.Genre == GenreOf(t)).Test));
        var agreement = new Dictionary<string, TargetAgreement>();
        foreach (var split in splits)
        {
            var twins = teachers.Where(t => GenreOf(t) == split.Genre).ToDictionary(t => t.Name);
            var (same, foreign, seed) = TwinsFigures.Pair([.. twins.Keys]);
            foreach (var other in new[] { foreign, seed }.OfType<string>())
                agreement[other] = scorer.Agreement(twins[same].Directory, twins[other].Directory, reference.Directory, split.Test);
        }
        log.WriteLine($"done in {total.Elapsed.TotalMinutes:F1} min");
        var report = new TwinsReport(new TwinsResults(splits, teachers, students, scores, mass, tuning.Select(t => (t.Choice, t.Validation)).ToList(), chosen,
            settings.Seeds, total.Elapsed, targets, settings.Students, settings.CommandLine(), agreement));
        report.Write(settings.Report);
        return report;
    }

    /// <summary>The student recipes the settings run; a --students entry that names no recipe is refused before anything trains.</summary>
    private static List<(string Name, string Path)> StudentRecipes(TwinsSettings settings)
    {
        var all = Recipes(settings, Students).ToList();
        foreach (var entry in settings.Students ?? [])
            if (!all.Any(r => TwinsSettings.Names(entry, r.Name)))
                throw new BadInputException($"--students {entry} names no recipe in {Path.Combine(settings.Recipes, Students)}");
        return all.Where(r => settings.Runs(r.Name)).ToList();
    }

    /// <summary>
    /// Each student recipe with whether it is an ALM student (read once the teachers it names
    /// exist); a subset with ALM students but without the student their settings are searched on
    /// is refused.
    /// </summary>
    private static List<(string Name, string Path, bool Alm)> WithKinds(TwinsSettings settings, List<(string Name, string Path)> recipes)
    {
        var runs = recipes.Select(r => (r.Name, r.Path, Alm: settings.Paths.Load(r.Path, settings.Overrides).Loss.Kind == LossKind.Alm)).ToList();
        if (settings.AlmGrid.Count > 1 && !settings.Runs(TuneRecipe) && runs.FirstOrDefault(r => r.Alm).Name is { } alm)
            throw new BadInputException($"--students runs {alm}, an ALM student, without {TuneRecipe}, on which ALM's settings are chosen");
        return runs;
    }

    private static IEnumerable<(string Name, string Path)> Recipes(TwinsSettings settings, string folder)
    {
        var dir = Path.Combine(settings.Recipes, folder);
        if (!Directory.Exists(dir)) throw new BadInputException($"no {folder}/ folder of recipes in {settings.Recipes}");
        return Directory.EnumerateFiles(dir, "*.yaml").Select(p => (Path.GetFileNameWithoutExtension(p), p)).OrderBy(r => r.Item1, StringComparer.Ordinal);
    }

    /// <summary>Trains one recipe (teachers with seed 0: as written; students with their seed, each in its own output), or reuses an earlier model.</summary>
    private static TwinsModel Train(LocalJobs jobs, TwinsSettings settings, string name, int seed, string path, IReadOnlyList<string> extra, TextWriter log, CancellationToken cancel)
    {
        var label = seed == 0 ? name : $"{name}-s{seed}";
        var folder = seed == 0 ? Teachers : name.StartsWith("tune-", StringComparison.Ordinal) ? "tune" : Students;
        List<string> overrides = [.. settings.Overrides ?? [], .. extra];
        if (seed > 0) overrides.AddRange([$"seed={seed}", $"name=twins-{label}", $"output={Path.Combine(settings.Paths.Work, "twins", folder, name, $"s{seed}")}"]);
        var recipe = settings.Paths.Load(path, overrides);
        var student = Path.Combine(recipe.Output, "student");
        var metrics = Path.Combine(recipe.Output, "metrics.jsonl");
        if (settings.Reuse && File.Exists(Path.Combine(student, "model.safetensors")) && File.Exists(metrics))
        {
            log.WriteLine($"  {label,-30} reused from {recipe.Output}");
            return new TwinsModel(name, seed, student, jobs.Lineage.LatestSucceeded(recipe.Name)?.Id, true, ExperimentReport.LossCurve(metrics)[^1].Loss, recipe.Train.Steps);
        }
        var watch = Stopwatch.StartNew();
        var (runId, loss) = jobs.Run(label, recipe, cancel);
        log.WriteLine($"  {label,-30} run {runId,-5} loss {loss[0].Loss:F3} → {loss[^1].Loss:F3} in {watch.Elapsed.TotalSeconds:F0} s");
        return new TwinsModel(name, seed, student, runId, false, loss[^1].Loss, recipe.Train.Steps);
    }
}
