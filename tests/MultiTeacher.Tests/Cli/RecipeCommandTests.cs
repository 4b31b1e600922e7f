using System.Text.Json.Nodes;
using MultiTeacher.Tests.Recipes;

namespace MultiTeacher.Tests.Cli;

/// <summary>`mt recipe check|show|schema` as a user runs them.</summary>
[Trait("Category", TestCategory.Unit)]
public sealed class RecipeCommandTests : RecipeTestFiles
{
    [Fact]
    public void Show_PrintsEveryKeyWithItsDocAndDefault()
    {
        var (code, output, error) = CliRunner.Run("", "recipe", "show", Write(Minimal()), "train.steps=5");
        Assert.True(code == 0, error);
        Assert.Contains("# override train.steps=5\n", output);
        Assert.Matches(@"\n  steps: 5 +# optimizer steps \(default 100\)\n", output);
        Assert.Matches(@"\n  top_k: 64 +# teacher probabilities kept per position \(default 64\)\n", output);
        Assert.Contains("  data.train: sha256:", output);
    }

    [Fact]
    public void Show_PrintsTheResolvedDefaults_ThenTheProblems_WhenInputsAreMissing()
    {
        var recipe = Write(Minimal().Replace("train: train.txt", "train: missing.txt"));
        var (code, output, error) = CliRunner.Run("", "recipe", "show", recipe);
        Assert.Equal(2, code);
        Assert.Contains($"  train: {Path.Combine(TempDir, "missing.txt")}", output);
        Assert.Matches(@"\n  policy: confidence +# .*\(default confidence\)\n", output);
        Assert.Contains("  student.init: sha256:", output);
        Assert.DoesNotContain("data.train: sha256", output);
        Assert.Equal($"mt: {recipe}:2:16: 'train': {Path.Combine(TempDir, "missing.txt")} does not exist", error.Trim());
    }

    [Fact]
    public void Check_AppliesOverrides_AndNamesABadOne()
    {
        var recipe = Write(Minimal());
        var ok = CliRunner.Run("", "recipe", "check", recipe, "train.steps=7");
        Assert.Contains("7 steps", ok.Out);
        var bad = CliRunner.Run("", "recipe", "check", recipe, "train.steps=-7");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("override 'train.steps=-7': 'steps' is -7", bad.Error);
    }

    [Fact]
    public void Schema_PrintsTheRecipeJsonSchema()
    {
        var (code, output, _) = CliRunner.Run("", "recipe", "schema");
        Assert.Equal(0, code);
        var schema = JsonNode.Parse(output)!;
        Assert.Equal("https://json-schema.org/draft/2020-12/schema", schema["$schema"]!.GetValue<string>());
        Assert.Equal("forward_kl", schema["properties"]!["loss"]!["properties"]!["kind"]!["default"]!.GetValue<string>());
    }
}
