using MultiTeacher.Alignment;
using MultiTeacher.Mixing;
using MultiTeacher.Recipes;

namespace MultiTeacher.Tests.Recipes;

[Trait("Category", TestCategory.Unit)]
public sealed class RecipeLoaderTests : RecipeTestFiles
{
    [Fact]
    public void MinimalRecipe_LoadsWithEveryDefaultFilledIn()
    {
        var r = RecipeLoader.Load(Write(Minimal()));
        Assert.Equal("tiny", r.Name);
        Assert.Equal(Path.Combine(TempDir, "train.txt"), r.Data.Train);
        Assert.Equal(128, r.Data.SequenceLength);
        Assert.Equal(ProjectionMethod.FirstToken, r.Alignment.Method);
        Assert.Equal(MixingPolicyKind.Confidence, r.Mixing.Policy);
        Assert.Equal(1.0, r.Loss.HardLabelWeight);   // no teachers: hard labels only
        Assert.Equal(ScheduleKind.Cosine, r.Train.Schedule);
    }

    [Fact]
    public void MistypedKey_IsNamedWithLineColumnAndSuggestion()
    {
        var e = Assert.Throws<RecipeException>(() => RecipeLoader.Load(Write(Minimal("train:\n  stpes: 10\n"))));
        var error = Assert.Single(e.Errors);
        Assert.Equal(5, error.Line);
        Assert.Equal(3, error.Column);
        Assert.Contains("unknown key 'stpes' in train (did you mean 'steps'?", error.Message);
        Assert.Contains("recipe.yaml:5:3:", error.ToString());
    }

    [Fact]
    public void EveryProblem_IsListed_NotJustTheFirst()
    {
        var yaml = $"""
            name: broken
            seed: -1
            data: {"{"} train: missing.txt, seq_len: abc {"}"}
            teachers:
              - {"{"} name: a, path: {TestAssets.TokenizerDir("llama3")}, weight: 0 {"}"}
              - {"{"} name: a, path: {TestAssets.TokenizerDir("qwen3")}, weight: 0 {"}"}
            student: {"{"} init: {TestAssets.TokenizerDir("mistral-7b-v0.1")} {"}"}
            mixing: {"{"} policy: weighted {"}"}
            loss: {"{"} kind: kl {"}"}
            """;
        var e = Assert.Throws<RecipeException>(() => RecipeLoader.Load(Write(yaml)));
        var messages = string.Join("\n", e.Errors.Select(x => x.Message));
        Assert.Contains("'seed' is -1", messages);
        Assert.Contains("does not exist", messages);
        Assert.Contains("'seq_len' must be an integer", messages);
        Assert.Contains("teacher 'a' is listed twice", messages);
        Assert.Contains("'kind' is 'kl', expected one of: forward_kl", messages);
        Assert.True(e.Errors.Count >= 5, messages);
        Assert.All(e.Errors, x => Assert.True(x.Line > 0));
    }

    [Theory]
    [InlineData("alm", true)]
    [InlineData("uld", true)]
    [InlineData("forward_kl", false)]
    public void LogitsChunk_IsRejectedOnlyWithPerTeacherObjectives(string kind, bool rejected)
    {
        var yaml = Minimal($"teachers:\n  - {{ name: a, path: {TestAssets.TokenizerDir("llama3")} }}\nloss: {{ kind: {kind} }}\ntrain: {{ logits_chunk: 256 }}\n");
        if (!rejected)
        {
            Assert.Equal(256, RecipeLoader.Load(Write(yaml)).Train.LogitsChunk);
            return;
        }
        var e = Assert.Throws<RecipeException>(() => RecipeLoader.Load(Write(yaml)));
        Assert.Contains($"loss kind '{kind}' needs the whole batch's logits", Assert.Single(e.Errors).Message);
    }

    [Fact]
    public void AllTeacherWeightsZero_UnderWeightedMixing_IsRejected()
    {
        var yaml = Minimal($"teachers:\n  - {{ name: a, path: {TestAssets.TokenizerDir("llama3")}, weight: 0 }}\nmixing: {{ policy: weighted }}\n");
        var e = Assert.Throws<RecipeException>(() => RecipeLoader.Load(Write(yaml)));
        Assert.Contains("every teacher has weight 0", e.Message);
    }

    [Fact]
    public void MalformedYaml_IsReportedWithItsLine()
    {
        var e = Assert.Throws<RecipeException>(() => RecipeLoader.Load(Write("name: x\ndata: [unclosed\n")));
        Assert.Contains("not valid YAML", e.Errors[0].Message);
    }

    [Fact]
    public void ResolvedRecipe_HasAbsolutePathsAndTheHashOfEveryInput()
    {
        var yaml = ResolvedRecipe.Resolve(RecipeLoader.Load(Write(Minimal()))).ToYaml();
        Assert.Contains($"train: {Path.Combine(TempDir, "train.txt")}", yaml);
        Assert.Contains("data.train: sha256:", yaml);
        Assert.Contains("student.init: sha256:", yaml);
        Assert.Contains("hard_label_weight: 1", yaml);
    }

    [Fact]
    public void EveryShippedRecipe_OpensWithItsCommand_AndIsValidBarInputsNotYetMade()
    {
        // The demo's data and teachers are made by `mt demo`; everything else must check out.
        var variables = new Dictionary<string, string> { ["MT_DEMO"] = Path.Combine(TempDir, "demo"), ["MT_ASSETS"] = TestAssets.Store.Root };
        var recipes = Directory.GetFiles(Path.Combine(RepoRoot(), "recipes"), "*.yaml", SearchOption.AllDirectories);
        Assert.NotEmpty(recipes);
        foreach (var recipe in recipes)
        {
            Assert.StartsWith("# mt ", File.ReadLines(recipe).First());
            try
            {
                if (MultiTeacher.Pipelines.PipelineLoader.IsPipeline(recipe)) MultiTeacher.Pipelines.PipelineLoader.Load(recipe, variables);
                else RecipeLoader.Load(recipe, variables: variables);
            }
            catch (RecipeException e)
            {
                // Demo recipes point into ${MT_DEMO}; real-scale examples at placeholder model and data paths.
                Assert.All(e.Errors, error => Assert.True(error.Message.Contains(Path.Combine(TempDir, "demo"))
                    || recipe.Contains("/examples/") && (error.Message.Contains(" /models/") || error.Message.Contains(" /data/")), error.ToString()));
                Assert.All(e.Errors, error => Assert.EndsWith("does not exist", error.Message));
            }
        }
    }

    internal static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "MultiTeacher.sln"))) return dir.FullName;
        throw new InvalidOperationException("repository root not found");
    }

    [Theory]
    [InlineData("three-7b-teachers-to-qwen2.5-0.5b.yaml")]
    [InlineData("three-7b-teachers-to-llama-3.2-1b.yaml")]
    public void RealScaleExamples_AreValid_ExceptForTheirPlaceholderPaths(string file)
    {
        var path = Path.Combine(RepoRoot(), "recipes", "examples", file);
        Assert.StartsWith("# mt submit", File.ReadLines(path).First());
        var error = Assert.Throws<RecipeException>(() => RecipeLoader.Load(path));
        Assert.All(error.Errors, e => Assert.EndsWith("does not exist", e.Message));
        Assert.Equal(6, error.Errors.Count);
    }
}
