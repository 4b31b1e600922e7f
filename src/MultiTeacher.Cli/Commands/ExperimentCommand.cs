using System.CommandLine;
using MultiTeacher.Experiments;
using MultiTeacher.Experiments.Twins;

namespace MultiTeacher.Cli.Commands;

/// <summary>`mt experiment`: trains and compares the experiment's students and writes its report.</summary>
public static class ExperimentCommand
{
    public static Command Create(CliIO io)
    {
        var assets = new Option<string>("--assets") { Description = "Asset directory (default: $MT_ASSETS or ~/.cache/multiteacher/assets)" };
        var work = new Option<string>("--work") { Description = "Demo working directory holding the teachers and data (default: $MT_DEMO, else runs/demo of this repository)" };
        var recipes = new Option<string>("--recipes") { Description = "Directory of the experiment's recipes (default: recipes/experiments of this repository)" };
        var report = new Option<string>("--report") { Description = "Report to write; plots go to a folder of the same name (default: docs/experiment.md of this repository)" };
        var documents = new Option<int>("--documents") { Description = "Held-out documents to score per genre, the last ones first (default: all 8)", DefaultValueFactory = _ => ExperimentSettings.MaxDocuments };
        var suite = new Option<ExperimentSuite>("--suite") { Description = "fusion: is fusing three teachers worth it (recipes/experiments); twins: the tokenizer-swap control (recipes/experiments/twins)" };
        var seeds = new Option<int>("--seeds") { Description = "twins: seeds per student (default 3)", DefaultValueFactory = _ => 3 };
        var studentSeeds = new Option<string[]>("--student-seeds") { Description = "twins: NAME=N, fewer seeds for one student recipe (repeatable)", AllowMultipleArgumentsPerToken = true };
        var students = new Option<string[]>("--students") { Description = "twins: run only these student recipes (NAME, or PREFIX* for every recipe beginning with it; repeatable; hard-label and same-fused are required)", AllowMultipleArgumentsPerToken = true };
        var reuse = new Option<bool>("--reuse") { Description = "Score students already trained by an earlier run of the experiment instead of training them again" };
        var command = new Command("experiment", "Trains and compares the experiment's students (hard labels, single teachers, every mixing policy and projection) with confidence intervals over held-out documents.")
            { assets, work, recipes, report, reuse, documents, suite, seeds, studentSeeds, students, RunCommand.DatabaseOption };
        command.SetAction((r, cancel) =>
        {
            if (r.GetValue(suite) == ExperimentSuite.Twins) return Task.FromResult(Twins(io, r, assets, work, recipes, report, reuse, documents, seeds, studentSeeds, students, cancel));
            var recipeDir = r.GetValue(recipes) ?? DemoPaths.FindRecipes("experiments");
            var reportPath = Path.GetFullPath(r.GetValue(report) ?? Path.Combine(recipeDir, "..", "..", "docs", "experiment.md"));
            var settings = new ExperimentSettings(DemoPaths.Default(r.GetValue(assets), r.GetValue(work)), recipeDir, reportPath,
                r.GetValue(reuse), r.GetValue(documents), r.GetValue(RunCommand.DatabaseOption));
            var result = Experiment.Run(settings, io.Out, cancel);
            io.Write(result.ConsoleTable());
            foreach (var line in result.Verdicts()) io.Out.WriteLine(line);
            io.Out.WriteLine($"\nreport: {reportPath}");
            return Task.FromResult(CliApp.Ok);
        });
        return command;
    }

    private static int Twins(CliIO io, ParseResult r, Option<string> assets, Option<string> work, Option<string> recipes, Option<string> report,
        Option<bool> reuse, Option<int> documents, Option<int> seeds, Option<string[]> studentSeeds, Option<string[]> students, CancellationToken cancel)
    {
        var limits = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var item in r.GetValue(studentSeeds) ?? [])
        {
            var eq = item.IndexOf('=');
            if (eq <= 0 || !int.TryParse(item[(eq + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n))
                throw new BadInputException($"--student-seeds '{item}' must read NAME=N, e.g. foreign-uld=1");
            limits[item[..eq]] = n;
        }
        var recipeDir = r.GetValue(recipes) ?? Path.Combine(DemoPaths.FindRecipes("experiments"), "twins");
        var reportPath = r.GetValue(report) is { } given ? Path.GetFullPath(given) : TwinsSettings.DefaultReport(recipeDir);
        var settings = new TwinsSettings(DemoPaths.Default(r.GetValue(assets), r.GetValue(work)), recipeDir, reportPath, r.GetValue(reuse), r.GetValue(seeds),
            TestDocuments: r.GetValue(documents), Database: r.GetValue(RunCommand.DatabaseOption), StudentSeeds: limits,
            Students: r.GetValue(students) is { Length: > 0 } only ? only : null);
        var result = TwinsSuite.Run(settings, io.Out, cancel);
        foreach (var line in result.Verdicts()) io.Out.WriteLine(line);
        io.Out.WriteLine($"\nreport: {reportPath}");
        return CliApp.Ok;
    }
}

/// <summary>Which experiment `mt experiment` runs.</summary>
public enum ExperimentSuite { Fusion, Twins }
