using MultiTeacher.Pipelines;
using MultiTeacher.Recipes;
using MultiTeacher.Tests.Cli;

namespace MultiTeacher.Tests.Pipelines;

/// <summary>Pipeline files: stage references, dependencies and order, embedded recipes, and every kind of bad pipeline located by file, line and key.</summary>
[Trait("Category", TestCategory.Unit)]
public sealed class PipelineLoaderTests : TempDirectoryTest
{
    public PipelineLoaderTests()
    {
        Directory.CreateDirectory(Path.Combine(TempDir, "base"));
        Directory.CreateDirectory(Path.Combine(TempDir, "teacher"));
        File.WriteAllText(Path.Combine(TempDir, "train.txt"), "Some text.\n\nMore text.");
    }

    private string Write(string body)
    {
        var path = Path.Combine(TempDir, "pipeline.yaml");
        File.WriteAllText(path, "name: pipe\noutput: out\nstages:\n" + body);
        return path;
    }

    private const string Transplant = """
          - name: moved
            kind: transplant
            transplant: { model: base, tokenizer: teacher, method: mean }
        """;

    private static string Distill(string name, string init) => $"""
          - name: {name}
            kind: distill
            distill:
              data: {"{"} train: train.txt {"}"}
              teachers:
                - {"{"} name: t, path: teacher {"}"}
              student:
                init: {init}
        """;

    private static string Merge(string name, params string[] models) => $"""
          - name: {name}
            kind: merge
            merge:
              method: linear
              models:
        {string.Join("\n", models.Select(m => $"        - model: {m}"))}
        """;

    private static RecipeException Refused(string path) => Assert.Throws<RecipeException>(() => PipelineLoader.Load(path));

    [Fact]
    public void StageReferences_BecomeTheStagesOutputs_AndOrderFollowsDependenciesNotListing()
    {
        // The merge is listed first and reads both later stages; the distillation reads the transplant.
        var path = Write(Merge("merged", "${stages.tuned.output}", "${stages.moved.output}") + "\n" + Distill("tuned", "${stages.moved.output}") + "\n" + Transplant);
        var pipeline = PipelineLoader.Load(path);
        var output = Path.Combine(TempDir, "out");

        Assert.Equal(["moved", "tuned", "merged"], pipeline.Order);
        Assert.Equal(["moved"], pipeline.Dependencies["tuned"]);
        Assert.Equal(["moved", "tuned"], pipeline.Dependencies["merged"].Order(StringComparer.Ordinal));
        Assert.Empty(pipeline.Dependencies["moved"]);
        var tuned = pipeline.Stage("tuned").Distill!;
        Assert.Equal(Path.Combine(output, "moved", "model"), tuned.Student.Init);
        Assert.Equal(Path.Combine(output, "tuned"), tuned.Output);
        Assert.Equal("pipe.tuned", tuned.Name);
        Assert.Equal(path, tuned.Source);
        Assert.Equal(Path.Combine(output, "tuned", "student"), pipeline.Stage("merged").Merge!.Models[0].Model);
        Assert.Equal(Path.Combine(output, "moved", "model"), pipeline.OutputOf("moved"));
    }

    [Fact]
    public void ResolvedYaml_ReadsBackToTheSameStagesDependenciesAndHashes()
    {
        var pipeline = PipelineLoader.Load(Write(Transplant + "\n" + Distill("tuned", "${stages.moved.output}"))).Resolve();
        // The student's init is the transplant's output, made inside the pipeline: not hashed at submission.
        Assert.Equal(["moved.transplant.model", "moved.transplant.tokenizer", "tuned.data.train", "tuned.teachers.t"], pipeline.Hashes.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(ContentHash.Of(Path.Combine(TempDir, "train.txt")), pipeline.Hashes["tuned.data.train"]);

        var again = PipelineLoader.LoadResolved(pipeline.ToYaml());
        Assert.Equal(pipeline.Order, again.Order);
        Assert.Equal(pipeline.Dependencies["tuned"], again.Dependencies["tuned"]);
        Assert.Equal(pipeline.Hashes, again.Hashes);
        Assert.Equal(RecipeYaml.Write(pipeline.Stage("tuned").Distill!, pipeline.Hashes), RecipeYaml.Write(again.Stage("tuned").Distill!, again.Hashes));
        Assert.Equal(pipeline.ToYaml(), again.ToYaml());
    }

    [Fact]
    public void ChangedExternalInput_IsRefusedBeforeTheStageRuns()
    {
        var pipeline = PipelineLoader.Load(Write(Distill("tuned", "base"))).Resolve();
        File.AppendAllText(Path.Combine(TempDir, "train.txt"), "\n\nchanged");
        var e = Assert.Throws<InputsChangedException>(() => pipeline.VerifyInputs(pipeline.Stage("tuned")));
        Assert.Equal(["tuned.data.train"], e.Inputs);
    }

    [Fact]
    public void UnknownStageReference_NamesFileLineAndKey()
    {
        var path = Write(Distill("tuned", "${stages.mvoed.output}"));
        var e = Refused(path);
        var error = e.Errors.First(x => x.Message.Contains("unknown stage"));
        Assert.Equal((path, 11L), (error.File, error.Line));
        Assert.Equal("'init' refers to unknown stage 'mvoed' (stages: tuned)", error.Message);
    }

    [Fact]
    public void Cycle_IsRefusedAtEachStageOnIt_WithThePath()
    {
        var path = Write(Distill("a", "${stages.b.output}") + "\n" + Distill("b", "${stages.a.output}") + "\n" + Transplant);
        var errors = Refused(path).Errors;
        Assert.Equal(2, errors.Count);
        Assert.Equal("stage 'a' depends on itself through a → b → a: a pipeline has no cycles", errors[0].Message);
        Assert.Equal((4L, 11L), (errors[0].Line, errors[0].Column));
        Assert.Equal("stage 'b' depends on itself through b → a → b: a pipeline has no cycles", errors[1].Message);
    }

    [Fact]
    public void StageReadingItsOwnOutput_IsRefused()
    {
        var e = Refused(Write(Distill("a", "${stages.a.output}")));
        Assert.Contains(e.Errors, x => x.Message == "'init' refers to its own stage 'a'" && x.Line == 11);
    }

    [Fact]
    public void UnknownKind_ListsTheKinds()
    {
        var e = Refused(Write("  - name: x\n    kind: blend\n    merge: { method: linear, models: [ { model: base } ] }\n"));
        var error = Assert.Single(e.Errors);
        Assert.Equal((5L, 11L), (error.Line, error.Column));
        Assert.Equal("'kind' is 'blend', expected one of: transplant, distill, merge, finetune, evaluate", error.Message);
    }

    [Fact]
    public void MissingInput_NamesTheKeyAndPath()
    {
        var e = Refused(Write("  - name: x\n    kind: transplant\n    transplant: { model: nowhere, tokenizer: teacher }\n"));
        var error = Assert.Single(e.Errors);
        Assert.Equal((6L, 26L), (error.Line, error.Column));
        Assert.Equal($"'model': {Path.Combine(TempDir, "nowhere")} does not exist", error.Message);
    }

    [Fact]
    public void SectionOfAnotherKind_OrNoSection_IsRefused()
    {
        var wrong = Refused(Write("  - name: x\n    kind: transplant\n    merge: { method: linear, models: [ { model: base } ] }\n")).Errors;
        Assert.Contains(wrong, e => e.Message == "stage 'x' is a transplant stage: 'merge' belongs to a merge stage (each stage has only its kind's section)" && e.Line == 6);
        Assert.Contains(wrong, e => e.Message == "stage 'x' of kind transplant needs a 'transplant' section" && e.Line == 4);
    }

    [Fact]
    public void FinetuneWithTeachers_DuplicateNames_AndAnOwnOutput_AreRefused()
    {
        var path = Write(Distill("a", "base").Replace("kind: distill", "kind: finetune").Replace("distill:", "finetune:") + "\n" + Transplant + "\n" + Transplant);
        var errors = Refused(path).Errors.Select(e => e.Message).ToList();
        Assert.Contains("a finetune stage trains on hard labels only: remove 'teachers' (or make 'a' a distill stage)", errors);
        Assert.Contains("stage 'moved' is listed twice", errors);

        var own = Refused(Write(Distill("a", "base").Replace("      student:", "      output: elsewhere\n      student:"))).Errors;
        Assert.Contains(own, e => e.Message == $"'output' of stage 'a' is its directory {Path.Combine(TempDir, "out", "a")}; leave it out");
    }

    [Fact]
    public void EmbeddedRecipe_IsCheckedAsARecipe()
    {
        var path = Write(Distill("a", "base").Replace("data: { train: train.txt }", "data: { train: train.txt, seq_len: 0 }").Replace("      student:", "      lossy: 1\n      student:"));
        var messages = Refused(path).Errors.Select(e => e.Message).ToList();
        Assert.Contains(messages, m => m.StartsWith("'seq_len' is 0, expected between", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("unknown key 'lossy' in distill (did you mean 'loss'?", StringComparison.Ordinal));
    }

    [Fact]
    public void MergeMethodNeedingABase_WithoutOne_IsRefused()
    {
        var e = Refused(Write(Merge("m", "base").Replace("method: linear", "method: ties")));
        Assert.Contains(e.Errors, x => x.Message == "merge method ties needs 'base_model'");
    }

    [Fact]
    public void BadPipeline_ThroughTheCli_ExitsTwoWithFileLineAndKey()
    {
        var path = Write(Distill("tuned", "${stages.nope.output}"));
        foreach (var args in new[] { new[] { "recipe", "check", path }, ["run", path], ["recipe", "show", path] })
        {
            var (code, _, error) = CliRunner.Run("", args);
            Assert.Equal(2, code);
            Assert.Contains($"{path}:11:", error);
            Assert.Contains("'init' refers to unknown stage 'nope'", error);
            Assert.DoesNotContain("   at ", error);
        }
    }

    [Fact]
    public void PipelineSchema_DescribesStagesAndEmbedsTheRecipeSchema()
    {
        var (code, output, _) = CliRunner.Run("", "recipe", "schema", "--pipeline");
        Assert.Equal(0, code);
        using var schema = System.Text.Json.JsonDocument.Parse(output);
        var stage = schema.RootElement.GetProperty("properties").GetProperty("stages").GetProperty("items").GetProperty("properties");
        Assert.Equal(["transplant", "distill", "merge", "finetune", "evaluate"],
            stage.GetProperty("kind").GetProperty("enum").EnumerateArray().Select(e => e.GetString()!));
        Assert.True(stage.GetProperty("distill").GetProperty("properties").TryGetProperty("teachers", out _));
    }
}
