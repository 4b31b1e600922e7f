using System.CommandLine;
using MultiTeacher.Lineage;
using MultiTeacher.Runs;
using Spectre.Console;

namespace MultiTeacher.Cli.Commands;

/// <summary>`mt lineage RUN|ARTIFACT`: upstream and downstream of a run or artifact, as trees.</summary>
public static class LineageCommand
{
    public static Command Create(CliIO io)
    {
        var target = new Argument<string>("RUN|ARTIFACT") { Description = "A run id, or an artifact's sha256 prefix or path" };
        var openLineage = new Option<bool>("--openlineage") { Description = "Print the run as OpenLineage RunEvents, one JSON object per line" };
        var url = new Option<string?>("--url") { Description = "With --openlineage: POST each event to URL/api/v1/lineage (Marquez-compatible) instead of printing" };
        var command = new Command("lineage", "Upstream (what made it) and downstream (what came from it) of a run or artifact, as trees.") { target, openLineage, url, CliApp.JsonOption, RunCommand.DatabaseOption };
        command.SetAction(r =>
        {
            var store = new LineageStore(LineageDatabase.Connect(r.GetValue(RunCommand.DatabaseOption)));
            var graph = new LineageGraph(store);
            var value = r.GetValue(target)!;
            if (string.IsNullOrWhiteSpace(value)) throw new BadInputException("lineage needs a run id, an artifact's sha256 prefix or its path, got an empty argument");
            var console = io.Tables();
            var json = r.GetValue(CliApp.JsonOption);
            var endpoint = r.GetValue(url);
            if (endpoint is not null && !r.GetValue(openLineage)) throw new BadInputException("--url sends OpenLineage events; it needs --openlineage");
            if (endpoint is not null) OpenLineageHttp.Endpoint(endpoint);
            if (long.TryParse(value, out var run))
            {
                if (store.Run(run) is null) throw new BadInputException($"no run {run}");
                if (r.GetValue(openLineage))
                {
                    var events = OpenLineageExport.Events(store, run);
                    if (endpoint is null) io.Out.Write(OpenLineageExport.ToJsonLines(events));
                    else io.Out.WriteLine($"run {run}: {OpenLineageHttp.Post(events, endpoint)} OpenLineage events sent to {OpenLineageHttp.Endpoint(endpoint)}");
                    return CliApp.Ok;
                }
                if (json)
                {
                    io.Out.WriteLine(SpellingJson.Serialize(new { Run = run, Upstream = graph.RunUpstream(run), Downstream = graph.RunDownstream(run) }));
                    return CliApp.Ok;
                }
                console.Write(Tree("upstream: what went into it", graph.RunUpstream(run)));
                console.Write(Tree("downstream: what came from it", graph.RunDownstream(run)));
                return CliApp.Ok;
            }
            var artifacts = store.FindArtifacts(value);
            if (artifacts.Count == 0) throw new BadInputException($"no artifact matches '{Terminal.Safe(value)}'");
            if (json)
            {
                io.Out.WriteLine(SpellingJson.Serialize(artifacts.DistinctBy(a => (a.Sha256, a.Path))
                    .Select(a => new { Artifact = a, Upstream = graph.ArtifactUpstream(a), Downstream = graph.ArtifactDownstream(a) })));
                return CliApp.Ok;
            }
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
}
