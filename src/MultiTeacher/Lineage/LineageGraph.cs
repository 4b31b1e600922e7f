using MultiTeacher.Runs;

namespace MultiTeacher.Lineage;

/// <summary>A node of a lineage tree: a run or an artifact, with what it came from or led to.</summary>
public sealed record LineageNode(string Label, IReadOnlyList<LineageNode> Children);

/// <summary>Walks lineage upstream (which runs and inputs made this) and downstream (what came from it).</summary>
public sealed class LineageGraph(LineageStore store, int maxDepth = 8)
{
    public LineageNode RunUpstream(long run) => RunNode(run, upstream: true, maxDepth, []);
    public LineageNode RunDownstream(long run) => RunNode(run, upstream: false, maxDepth, []);

    public LineageNode ArtifactUpstream(RunArtifact a) => ArtifactNode(a, upstream: true, maxDepth, []);
    public LineageNode ArtifactDownstream(RunArtifact a) => ArtifactNode(a, upstream: false, maxDepth, []);

    private LineageNode RunNode(long id, bool upstream, int depth, HashSet<long> seen)
    {
        var label = store.Run(id) is { } r ? $"run {id} {r.Recipe} ({Spelling.Of(r.Status)})" : $"run {id}";
        if (!seen.Add(id) || depth == 0) return new LineageNode(label + " …", []);
        var artifacts = store.Artifacts(id).Where(a => a.Direction == (upstream ? "used" : "produced"));
        return new LineageNode(label, artifacts.Select(a => ArtifactNode(a, upstream, depth - 1, seen)).ToList());
    }

    private LineageNode ArtifactNode(RunArtifact a, bool upstream, int depth, HashSet<long> seen)
    {
        var label = $"{(a.Role.Length > 0 ? a.Role + ": " : "")}{a.Kind} {a.Sha256[..12]} {a.Path}";
        var runs = upstream ? store.ProducersOf(a.Sha256, a.Path) : store.ConsumersOf(a.Sha256, a.Path);
        return new LineageNode(label, depth == 0 ? [] : runs.Select(r => RunNode(r, upstream, depth - 1, seen)).ToList());
    }
}
