using MultiTeacher.Lineage;

namespace MultiTeacher.Tests.Lineage;

/// <summary>The lineage graph the dashboard lays out: hops across runs, one node per artifact, caches linked to their teachers.</summary>
[Trait("Category", TestCategory.Database)]
[Collection("postgres")]
public sealed class LineageDagTests(PostgresFixture postgres) : TempDirectoryTest
{
    private string Dir(string name)
    {
        var d = Path.Combine(TempDir, name);
        Directory.CreateDirectory(d);
        File.WriteAllText(Path.Combine(d, "model.safetensors"), name);
        return d;
    }

    [Fact]
    public void Graph_ReachesTwoRunsUpAndOneDown_JoinsSharedArtifacts_AndLinksEachCacheToItsTeacher()
    {
        var connection = postgres.NewDatabase();
        Migrator.Apply(connection);
        var store = new LineageStore(connection);
        var (data, baseDir, teacherDir, cacheDir, studentDir, nextDir) = (Dir("data"), Dir("base"), Dir("teacher"), Dir("cache"), Dir("student"), Dir("next"));

        // base -> teacher -> fused (with the teacher's cache) -> next: the fused run is two hops from base.
        var baseRun = store.StartRun(store.RecordRecipe("base", "a"), 1, new Dictionary<string, string>());
        store.Link(baseRun, store.RecordArtifact("student", baseDir), "produced", "student");
        var teacherRun = store.StartRun(store.RecordRecipe("teacher", "b"), 1, new Dictionary<string, string>());
        store.Link(teacherRun, store.RecordArtifact("student", baseDir), "used", "student.init");
        store.Link(teacherRun, store.RecordArtifact("student", teacherDir), "produced", "student");
        var fusedRun = store.StartRun(store.RecordRecipe("fused", "c"), 1, new Dictionary<string, string>());
        store.Link(fusedRun, store.RecordArtifact("dataset", data), "used", "data.train");
        store.Link(fusedRun, store.RecordArtifact("teacher", teacherDir), "used", "teacher:press");
        store.Link(fusedRun, store.RecordArtifact("cache", cacheDir), "used", "cache:press");
        store.Link(fusedRun, store.RecordArtifact("student", studentDir), "produced", "student");
        var nextRun = store.StartRun(store.RecordRecipe("next", "d"), 1, new Dictionary<string, string>());
        store.Link(nextRun, store.RecordArtifact("student", studentDir), "used", "student.init");
        store.Link(nextRun, store.RecordArtifact("student", nextDir), "produced", "student");
        // A run that shares the fused run's data but is neither upstream nor downstream of it.
        var sibling = store.StartRun(store.RecordRecipe("sibling", "e"), 1, new Dictionary<string, string>());
        store.Link(sibling, store.RecordArtifact("dataset", data), "used", "data.train");

        var graph = new LineageDag(store, hops: 3).Build(fusedRun);
        var runs = graph.Nodes.Where(n => n.Kind == DagNodeKind.Run).Select(n => n.Run).Order().ToList();
        Assert.Equal([baseRun, teacherRun, fusedRun, nextRun], runs);
        // The teacher run's output and the fused run's teacher input are one node, produced by one and used by the other.
        var teacherNode = graph.Nodes.Single(n => n.Id.EndsWith(":" + teacherDir, StringComparison.Ordinal));
        Assert.Contains(new DagEdge($"run:{teacherRun}", teacherNode.Id, DagEdgeKind.Produced), graph.Edges);
        Assert.Contains(new DagEdge(teacherNode.Id, $"run:{fusedRun}", DagEdgeKind.Used), graph.Edges);
        var cacheNode = graph.Nodes.Single(n => n.Id.EndsWith(":" + cacheDir, StringComparison.Ordinal));
        Assert.Equal("press", cacheNode.Teacher);
        Assert.Contains(new DagEdge(teacherNode.Id, cacheNode.Id, DagEdgeKind.Cached), graph.Edges);
        Assert.Single(graph.Edges, e => e.Kind == DagEdgeKind.Cached);
        Assert.All(graph.Edges, e => Assert.True(graph.Nodes.Any(n => n.Id == e.From) && graph.Nodes.Any(n => n.Id == e.To)));

        var oneHop = new LineageDag(store, hops: 1).Build(fusedRun);
        Assert.DoesNotContain(oneHop.Nodes, n => n.Run == baseRun);
        Assert.Contains(oneHop.Nodes, n => n.Run == teacherRun);
    }
}
