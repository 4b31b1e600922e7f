using System.Xml.Linq;
using MultiTeacher.Tests.Cli;
using MultiTeacher.Tests.Integration;
using MultiTeacher.Tests.Lineage;
using Xunit.Abstractions;
using MultiTeacher.Runs;

namespace MultiTeacher.Tests.Experiments;

[Trait("Category", TestCategory.Database)]
[Collection("postgres")]
public sealed class ExperimentTests(PostgresFixture postgres, ITestOutputHelper log) : TempDirectoryTest
{
    [Fact]
    public void Experiment_TrainsEveryRecipeAsARun_AndReportsIntervalsClaimsAndPlots()
    {
        // As `mt` does at start-up: scoring allocates large logits tensors, which glibc would otherwise unmap and fault in again each time.
        MultiTeacher.Runtime.GlibcAllocator.KeepFreedMemory();
        var db = postgres.NewDatabase();
        var runs = new TinyRuns(TempDir);
        runs.WriteData(trainDocuments: 3, trainChars: 3000);
        // Tiny stand-ins for the demo's three teachers, where the experiment looks for them.
        foreach (var (genre, (name, type, tokenizer, vocab)) in new[] { "press", "learned", "fiction" }.Zip(TinyRuns.Teachers))
        {
            var dir = runs.WriteTeacher(name, type, tokenizer, vocab, seed: name.Length);
            CopyDirectory(dir, Path.Combine(TempDir, "runs", $"teacher-{genre}", "student"));
        }
        var student = runs.WriteConfig("student", "mistral", 32000);
        var recipes = Directory.CreateDirectory(Path.Combine(TempDir, "experiments")).FullName;
        var teachers = string.Join("", new[] { "press", "learned", "fiction" }.Select(g => $"\n  - {{ name: {g}, path: {TempDir}/runs/teacher-{g}/student }}"));
        void Write(string name, string? teacherList, string policy = "confidence") => File.WriteAllText(Path.Combine(recipes, name + ".yaml"), $"""
            # mt experiment
            name: exp-{name}
            seed: 3
            data: {"{"} train: {TempDir}/train.txt, seq_len: 32 {"}"}
            {(teacherList is null ? "" : "teachers:" + teacherList)}
            student: {"{"} config: {student}, tokenizer: {TestAssets.TokenizerDir("mistral-7b-v0.1")} {"}"}
            mixing: {"{"} policy: {policy} {"}"}
            train: {"{"} steps: 3, batch_size: 2, lr: 0.003 {"}"}
            output: {TempDir}/out/{name}
            """);
        Write("hard-label", null);
        Write("single-press", teachers.Split('\n')[1].Insert(0, "\n"));
        Write("fused-confidence", teachers);
        Write("fused-uniform", teachers, "uniform");
        Write("single-learned-k1024", teachers.Split('\n')[2].Insert(0, "\n"));
        // A pipeline in the folder runs after the recipes, from the hard-label student; its models are scored like students.
        // Stage: a finetune stage, or a distill stage when it has a teacher.
        string Stage(string name, string? teacher) => $$"""
              - name: {{name}}
                kind: {{(teacher is null ? "finetune" : "distill")}}
                {{(teacher is null ? "finetune" : "distill")}}:
                  data: { train: {{TempDir}}/train.txt, seq_len: 32 }
                  {{(teacher is null ? "" : $"teachers: [{{ name: learned, path: {teacher} }}]")}}
                  student: { init: {{TempDir}}/out/hard-label/student }
                  train: { steps: 2, batch_size: 2, lr: 0.001 }
            """;
        File.WriteAllText(Path.Combine(recipes, "transplant-route.yaml"), $"""
            # mt experiment
            name: exp-route
            output: {TempDir}/out/route
            stages:
            {Stage("control", null)}
            {Stage("distill_mistral", $"{TempDir}/runs/teacher-learned/student")}
            """);

        var report = Path.Combine(TempDir, "docs", "experiment.md");
        var (code, output, error) = CliRunner.Run("", "experiment", "--work", TempDir, "--recipes", recipes, "--report", report, "--assets", TestAssets.Store.Root, "--database", db, "--documents", "2");
        log.WriteLine(output);
        Assert.True(code == 0, output + error);
        var text = File.ReadAllText(report);
        foreach (var name in new[] { "hard-label", "single-press", "fused-confidence", "fused-uniform", "(teacher-press)", "transplant-route.control", "transplant-route.distill_mistral" })
            Assert.Contains($"| {name} |", text);
        // The route's model against its control, beside the projection student of the same teacher against hard labels.
        Assert.Matches(@"\| transplant-route\.distill_mistral \| learned-mistral[^|]*\| Δ [^|]+\| single-learned-k1024 \| Δ [^|]+\| Δ [^|]+\|", text);
        Assert.Contains("the fused student beats the hard-label baseline overall", text);
        Assert.Contains("the fused student beats the best single-teacher student (single-press) overall", text);
        Assert.Matches(@"\| \d\.\d{4} \[\d\.\d{4}, \d\.\d{4}\] \|", text);
        Assert.Contains("lower on", output);
        foreach (var plot in new[] { "bits-per-byte.svg", "training-loss.svg" })
        {
            var svg = XDocument.Load(Path.Combine(TempDir, "docs", "experiment", plot));
            Assert.Equal("svg", svg.Root!.Name.LocalName);
            Assert.Contains($"experiment/{plot}", text);
        }
        // Each student is a real run in lineage.
        var runIds = System.Text.RegularExpressions.Regex.Matches(text, @"\| (hard-label|single-press|fused-confidence|fused-uniform) \| (\d+) \|").Select(m => long.Parse(m.Groups[2].Value)).ToList();
        Assert.Equal(4, runIds.Count);
        var pipelineRun = System.Text.RegularExpressions.Regex.Match(text, @"\| transplant-route \(pipeline: control → distill_mistral\) \| (\d+) \|");
        Assert.True(pipelineRun.Success, text);
        runIds.Add(long.Parse(pipelineRun.Groups[1].Value));
        var store = new MultiTeacher.Lineage.LineageStore(db);
        Assert.All(runIds, id => Assert.Equal(RunStatus.Succeeded, store.Run(id)!.Status));

        // --reuse rescores what was trained, the pipeline's models included, and starts no run.
        var before = store.Runs().Count;
        (code, output, error) = CliRunner.Run("", "experiment", "--work", TempDir, "--recipes", recipes, "--report", report, "--assets", TestAssets.Store.Root, "--database", db, "--documents", "2", "--reuse");
        Assert.True(code == 0, output + error);
        Assert.Equal(before, store.Runs().Count);
        text = File.ReadAllText(report);
        Assert.Contains($"| transplant-route (pipeline: control → distill_mistral) | {runIds[^1]} (reused) |", text);
        Assert.Contains($"| hard-label | {runIds[0]} (reused) |", text);
        Assert.Contains("| transplant-route.distill_mistral |", text);
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
    }
}
