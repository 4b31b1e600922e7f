using System.CommandLine;
using MultiTeacher.Experiments;

namespace MultiTeacher.Cli.Commands;

/// <summary>`mt demo`: the end-to-end showcase on the pinned assets.</summary>
public static class DemoCommand
{
    public static Command Create(CliIO io)
    {
        var assets = new Option<string>("--assets") { Description = "Asset directory (default: $MT_ASSETS or ~/.cache/multiteacher/assets)" };
        var work = new Option<string>("--work") { Description = "Demo working directory (default: $MT_DEMO, else runs/demo of this repository)" };
        var recipes = new Option<string>("--recipes") { Description = "Directory of the demo recipes (default: recipes/demo of this repository)" };
        var command = new Command("demo",
            "The showcase: three teachers with three vocabularies trained on three Brown genres, distilled into one student, against a hard-label baseline.")
            { assets, work, recipes, RunCommand.DatabaseOption };
        command.SetAction((r, cancel) =>
        {
            var paths = DemoPaths.Default(r.GetValue(assets), r.GetValue(work));
            var tour = new TokenizerTour(paths.Store);
            io.Write(tour.Vocabularies());
            io.Write(tour.BytesPerToken());
            foreach (var line in tour.Sample()) io.Out.WriteLine(line);
            io.Write(tour.Alignment());
            var settings = new DemoSettings(paths, r.GetValue(recipes) ?? DemoPaths.FindRecipes(), r.GetValue(RunCommand.DatabaseOption));
            var models = Demo.Train(settings, io.Out, cancel);
            io.Write(Demo.HeldOutTable(models));
            var fused = models.Single(m => m.Name == "student-fused");
            io.Out.WriteLine($"\nStudent: {fused.Directory} (run {fused.RunId}; `mt show {fused.RunId}` lists these numbers as bpb/heldout_*)");
            io.Out.WriteLine($"Next: `mt dashboard` (runs, curves, lineage graph, teacher contribution at http://127.0.0.1:5080/runs/{fused.RunId}),");
            io.Out.WriteLine($"      `mt lineage {fused.RunId}` (which teachers and data made the student), `mt audit {fused.RunId}` (replay and verdict),");
            io.Out.WriteLine("      `mt generate --model DIR --prompt TEXT`.");
            return Task.FromResult(CliApp.Ok);
        });
        return command;
    }
}
