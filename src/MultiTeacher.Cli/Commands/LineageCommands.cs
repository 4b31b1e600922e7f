using System.CommandLine;
using System.Globalization;
using MultiTeacher.Lineage;
using Spectre.Console;

namespace MultiTeacher.Cli.Commands;

/// <summary>`mt runs` and `mt show RUN`: what the lineage database knows.</summary>
public static class LineageCommands
{
    public static Command CreateRuns(CliIO io)
    {
        var limit = new Option<int>("--limit") { Description = "How many runs, newest first", DefaultValueFactory = _ => 50 };
        var command = new Command("runs", "List recorded runs, newest first.") { limit, RunCommand.DatabaseOption };
        command.SetAction(r =>
        {
            var store = new LineageStore(RunRecorder.ConnectionString(r.GetValue(RunCommand.DatabaseOption)));
            var table = new Table().AddColumns("run", "recipe", "status", "steps", "created", "finished");
            foreach (var run in store.Runs(r.GetValue(limit)))
                table.AddRow(run.Id.ToString(), Terminal.Cell(run.Recipe), Terminal.Cell(run.Status), run.Steps.ToString(), $"{run.CreatedAt:yyyy-MM-dd HH:mm:ss}", run.FinishedAt is { } f ? $"{f:HH:mm:ss}" : "-");
            io.Tables().Write(table);
            return CliApp.Ok;
        });
        return command;
    }

    public static Command CreateShow(CliIO io)
    {
        var run = new Argument<long>("RUN") { Description = "Run id" };
        var command = new Command("show", "A run's inputs and outputs (with sha256) and a summary of its metrics.") { run, RunCommand.DatabaseOption };
        command.SetAction(r =>
        {
            var store = new LineageStore(RunRecorder.ConnectionString(r.GetValue(RunCommand.DatabaseOption)));
            var id = r.GetValue(run);
            var summary = store.Run(id) ?? throw new BadInputException($"no run {id}");
            io.Out.WriteLine(Terminal.Safe($"run {id}: {summary.Recipe}, {summary.Status}, {summary.Steps} steps"));
            io.Out.WriteLine(Terminal.Safe("stages: " + string.Join(", ", store.Stages(id).Select(s => $"{s.Kind} {s.Name} ({s.Status})"))));
            var artifacts = new Table().Title("Inputs and outputs").AddColumns("", "role", "kind", "sha256", "bytes", "path");
            foreach (var a in store.Artifacts(id))
                artifacts.AddRow(Terminal.Cell(a.Direction), Terminal.Cell(a.Role), Terminal.Cell(a.Kind), a.Sha256[..16], a.SizeBytes.ToString("N0"), Terminal.Cell(a.Path));
            io.Tables().Write(artifacts);
            var metrics = new Table().Title("Metrics").AddColumns("name", "last", "min", "max", "steps");
            foreach (var (name, last, min, max, count) in store.MetricSummary(id))
                metrics.AddRow(Terminal.Cell(name), F(last), F(min), F(max), count.ToString());
            io.Tables().Write(metrics);
            return CliApp.Ok;
        });
        return command;
    }

    public static Command CreateLineage(CliIO io)
    {
        var target = new Argument<string>("RUN|ARTIFACT") { Description = "A run id, or an artifact's sha256 prefix or path" };
        var openLineage = new Option<bool>("--openlineage") { Description = "Print the run as OpenLineage RunEvents, one JSON object per line" };
        var command = new Command("lineage", "Upstream (what made it) and downstream (what came from it) of a run or artifact, as trees.") { target, openLineage, RunCommand.DatabaseOption };
        command.SetAction(r =>
        {
            var store = new LineageStore(RunRecorder.ConnectionString(r.GetValue(RunCommand.DatabaseOption)));
            var graph = new LineageGraph(store);
            var value = r.GetValue(target)!;
            if (string.IsNullOrWhiteSpace(value)) throw new BadInputException("lineage needs a run id, an artifact's sha256 prefix or its path, got an empty argument");
            var console = io.Tables();
            if (long.TryParse(value, out var run))
            {
                if (store.Run(run) is null) throw new BadInputException($"no run {run}");
                if (r.GetValue(openLineage))
                {
                    io.Out.Write(OpenLineageExport.ToJsonLines(OpenLineageExport.Events(store, run)));
                    return CliApp.Ok;
                }
                console.Write(Tree("upstream: what went into it", graph.RunUpstream(run)));
                console.Write(Tree("downstream: what came from it", graph.RunDownstream(run)));
                return CliApp.Ok;
            }
            var artifacts = store.FindArtifacts(value);
            if (artifacts.Count == 0) throw new BadInputException($"no artifact matches '{Terminal.Safe(value)}'");
            foreach (var a in artifacts.DistinctBy(a => (a.Sha256, a.Path)))
            {
                console.Write(Tree("upstream", graph.ArtifactUpstream(a)));
                console.Write(Tree("downstream", graph.ArtifactDownstream(a)));
            }
            return CliApp.Ok;
        });
        return command;
    }

    private static Tree Tree(string title, LineageNode node)
    {
        var tree = new Tree($"[bold]{title}[/]");
        Add(tree.AddNode(Terminal.Cell(node.Label)), node);
        return tree;
    }

    private static void Add(TreeNode parent, LineageNode node)
    {
        foreach (var child in node.Children) Add(parent.AddNode(Terminal.Cell(child.Label)), child);
    }

    private static string F(double v) => v.ToString("G5", CultureInfo.InvariantCulture);
}
