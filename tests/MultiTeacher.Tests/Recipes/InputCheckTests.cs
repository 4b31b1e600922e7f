using MultiTeacher.Recipes;

namespace MultiTeacher.Tests.Recipes;

/// <summary>Re-hashing a recorded recipe's inputs before a job runs.</summary>
[Trait("Category", TestCategory.Unit)]
public sealed class InputCheckTests : TempDirectoryTest
{
    private Recipe Recorded(out IReadOnlyDictionary<string, string> hashes)
    {
        File.WriteAllText(Path.Combine(TempDir, "train.txt"), "Some training text.");
        File.WriteAllText(Path.Combine(TempDir, "eval.txt"), "Held-out text.");
        File.WriteAllText(Path.Combine(TempDir, "config.json"), "{}");
        var path = Path.Combine(TempDir, "r.yaml");
        File.WriteAllText(path, $"""
            name: r
            data: {"{"} train: train.txt, eval: eval.txt {"}"}
            student: {"{"} config: config.json, tokenizer: {TestAssets.TokenizerDir("mistral-7b-v0.1")} {"}"}
            """);
        return RecipeLoader.LoadResolved(ResolvedRecipe.Resolve(RecipeLoader.Load(path)).ToYaml(), out hashes);
    }

    [Fact]
    public void UnchangedInputs_Pass()
    {
        var recipe = Recorded(out var hashes);
        InputCheck.Verify(recipe, hashes);
    }

    [Fact]
    public void ChangedInput_IsNamed()
    {
        var recipe = Recorded(out var hashes);
        File.AppendAllText(Path.Combine(TempDir, "eval.txt"), "!");
        Assert.Equal(["data.eval"], Assert.Throws<InputsChangedException>(() => InputCheck.Verify(recipe, hashes)).Inputs);
    }

    [Fact]
    public void ChangeOutsideTheCheckedInputs_IsNotAStageConcern()
    {
        var recipe = Recorded(out var hashes);
        File.AppendAllText(Path.Combine(TempDir, "eval.txt"), "!");
        InputCheck.Verify(recipe, hashes, key => key is "data.train" or "student.tokenizer");
        File.AppendAllText(Path.Combine(TempDir, "train.txt"), "!");
        Assert.Equal(["data.train"], Assert.Throws<InputsChangedException>(() => InputCheck.Verify(recipe, hashes, key => key is "data.train")).Inputs);
    }
}
