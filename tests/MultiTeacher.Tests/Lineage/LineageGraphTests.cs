using MultiTeacher.Lineage;
using MultiTeacher.Tests.Cli;

namespace MultiTeacher.Tests.Lineage;

[Trait("Category", TestCategory.Database)]
[Collection("postgres")]
public sealed class LineageGraphTests(PostgresFixture postgres) : TempDirectoryTest
{
    private static IEnumerable<string> Labels(LineageNode node) => node.Children.SelectMany(Labels).Prepend(node.Label);

    [Fact]
    public void StudentOfATeacherRun_TracesBackToIt_AndTheTeacherRunForwardToTheStudent()
    {
        var connection = postgres.NewDatabase();
        Migrator.Apply(connection);
        var store = new LineageStore(connection);
        string Dir(string name)
        {
            var d = Path.Combine(TempDir, name);
            Directory.CreateDirectory(d);
            File.WriteAllText(Path.Combine(d, "model.safetensors"), name);
            return d;
        }
        var data = Dir("data");
        var teacherDir = Dir("teacher-out");
        var studentDir = Dir("student-out");

        var teacherRun = store.StartRun(store.RecordRecipe("teacher-press", "a"), 1, new Dictionary<string, string>());
        store.Link(teacherRun, store.RecordArtifact("dataset", data), "used", "data.train");
        store.Link(teacherRun, store.RecordArtifact("student", teacherDir), "produced", "student");
        var fusedRun = store.StartRun(store.RecordRecipe("student-fused", "b"), 1, new Dictionary<string, string>());
        store.Link(fusedRun, store.RecordArtifact("teacher", teacherDir), "used", "teacher:press");
        store.Link(fusedRun, store.RecordArtifact("student", studentDir), "produced", "student");

        var graph = new LineageGraph(store);
        var upstream = Labels(graph.RunUpstream(fusedRun)).ToList();
        Assert.Contains(upstream, l => l.StartsWith($"run {teacherRun} teacher-press"));
        Assert.Contains(upstream, l => l.Contains("data.train"));
        var downstream = Labels(graph.RunDownstream(teacherRun)).ToList();
        Assert.Contains(downstream, l => l.StartsWith($"run {fusedRun} student-fused"));

        var (code, output, error) = CliRunner.Run("", "lineage", fusedRun.ToString(), "--database", connection);
        Assert.True(code == 0, error);
        Assert.Contains("teacher-press", output);
        Assert.Equal(0, CliRunner.Run("", "lineage", teacherDir, "--database", connection).ExitCode);
        Assert.Equal(2, CliRunner.Run("", "lineage", "999", "--database", connection).ExitCode);
    }
}
