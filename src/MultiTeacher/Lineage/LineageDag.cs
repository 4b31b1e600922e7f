using MultiTeacher.Runs;

namespace MultiTeacher.Lineage;

/// <summary>What a lineage graph node stands for.</summary>
public enum DagNodeKind { Run, Artifact }

/// <summary>How two lineage graph nodes are linked: a run used or produced an artifact, or a teacher's cache was computed from that teacher.</summary>
public enum DagEdgeKind { Used, Produced, Cached }

/// <summary>A node of the lineage graph: a run (with its id) or an artifact (with its role in the run that showed it).</summary>
public sealed record DagNode(string Id, DagNodeKind Kind, string Label, string Detail, long? Run, string? Teacher, string? Status);

/// <summary>A directed edge of the lineage graph, from the earlier node to the later.</summary>
public sealed record DagEdge(string From, string To, DagEdgeKind Kind);

/// <summary>The lineage around one run as nodes and edges, for a layout library to place.</summary>
public sealed record LineageDagGraph(long Run, IReadOnlyList<DagNode> Nodes, IReadOnlyList<DagEdge> Edges);

/// <summary>
/// Builds the lineage graph around a run, several hops each way: upstream through the runs that
/// produced its inputs (and theirs), downstream through the runs that used its outputs. An
/// artifact is one node wherever it appears (same content and path), which is what joins the hops;
/// a teacher's cache is linked to the teacher it was computed from.
/// </summary>
public sealed class LineageDag(LineageStore store, int hops = 3)
{
    public LineageDagGraph Build(long runId)
    {
        var nodes = new Dictionary<string, DagNode>(StringComparer.Ordinal);
        var edges = new HashSet<DagEdge>();
        var expanded = new HashSet<(long, bool)>();
        var frontier = new Queue<(long Run, bool Upstream, int Depth)>([(runId, true, 0), (runId, false, 0)]);
        while (frontier.TryDequeue(out var item))
        {
            if (!expanded.Add((item.Run, item.Upstream))) continue;
            AddRun(nodes, item.Run);
            var artifacts = store.Artifacts(item.Run);
            foreach (var a in artifacts)
            {
                var used = a.Direction == "used";
                // Past the first hop only the walk's own direction is drawn, so shared inputs do not pull in every sibling run.
                if (item.Run != runId && used != item.Upstream) continue;
                var id = ArtifactId(a);
                nodes.TryAdd(id, new DagNode(id, DagNodeKind.Artifact, a.Role, $"{a.Kind} {a.Sha256[..12]}", null,
                    ArtifactRoles.TeacherOf(a.Role) ?? ArtifactRoles.CacheOf(a.Role), null));
                edges.Add(used ? new DagEdge(id, RunId(item.Run), DagEdgeKind.Used) : new DagEdge(RunId(item.Run), id, DagEdgeKind.Produced));
                if (used != item.Upstream || item.Depth >= hops) continue;
                foreach (var other in used ? store.ProducersOf(a.Sha256, a.Path) : store.ConsumersOf(a.Sha256, a.Path))
                {
                    if (other == item.Run) continue;
                    AddRun(nodes, other);
                    edges.Add(used ? new DagEdge(RunId(other), id, DagEdgeKind.Produced) : new DagEdge(id, RunId(other), DagEdgeKind.Used));
                    frontier.Enqueue((other, item.Upstream, item.Depth + 1));
                }
            }
            foreach (var cache in artifacts.Where(a => ArtifactRoles.CacheOf(a.Role) is not null))
                if (artifacts.FirstOrDefault(t => t.Direction == "used" && ArtifactRoles.TeacherOf(t.Role) == ArtifactRoles.CacheOf(cache.Role)) is { } teacher
                    && nodes.ContainsKey(ArtifactId(cache)))
                    edges.Add(new DagEdge(ArtifactId(teacher), ArtifactId(cache), DagEdgeKind.Cached));
        }
        return new LineageDagGraph(runId, [.. nodes.Values], [.. edges]);
    }

    private void AddRun(Dictionary<string, DagNode> nodes, long id)
    {
        if (nodes.ContainsKey(RunId(id))) return;
        var run = store.Run(id);
        nodes[RunId(id)] = new DagNode(RunId(id), DagNodeKind.Run, $"run {id}: {run?.Recipe}", run is null ? "" : Spelling.Of(run.Status), id, null,
            run is null ? null : Spelling.Of(run.Status));
    }

    private static string RunId(long id) => $"run:{id}";

    private static string ArtifactId(RunArtifact a) => $"artifact:{a.Sha256}:{a.Path}";
}
