using MultiTeacher.Losses;
using MultiTeacher.Recipes;

namespace MultiTeacher.Tests.Recipes;

/// <summary>KEY.PATH=VALUE overrides: applied over the file, validated like it, recorded in the resolved recipe.</summary>
[Trait("Category", TestCategory.Unit)]
public sealed class RecipeOverridesTests : RecipeTestFiles
{
    [Fact]
    public void Overrides_SetNestedKeys_OverTheFileAndTheDefaults()
    {
        var r = RecipeLoader.Load(Write(WithTeacher("train: { steps: 50 }\n")), ["train.steps=5", "loss.temperature=2", "loss.kind=jsd", "teachers.0.weight=3", "seed=9"]);
        Assert.Equal((5, 2.0, LossKind.Jsd, 3.0, 9L), (r.Train.Steps, r.Loss.Temperature, r.Loss.Kind, r.Teachers[0].Weight, r.Seed));
        Assert.Equal(8, r.Train.BatchSize);
    }

    [Fact]
    public void Overrides_AreRecordedInTheResolvedRecipe_AndReadBack()
    {
        var r = RecipeLoader.Load(Write(Minimal()), ["train.steps=5"]);
        var yaml = ResolvedRecipe.Resolve(r).ToYaml();
        Assert.Contains("# override train.steps=5\n", yaml);
        Assert.Contains("  steps: 5\n", yaml);
        var back = RecipeLoader.LoadResolved(yaml, out _);
        Assert.Equal(["train.steps=5"], back.Overrides);
        RecipeSchemaTests.AssertSameRecipe(r, back);
    }

    [Fact]
    public void InvalidOverrides_AreEachNamed_WithTheFileStillChecked()
    {
        var e = Assert.Throws<RecipeException>(() => RecipeLoader.Load(Write(Minimal("seed: -1\n")),
            ["train.steps=0", "train.stpes=5", "loss.kind=kl", "steps", "alignment.top_k.x=1", "teachers.3.weight=1"]));
        var messages = e.Errors.Select(x => x.ToString()).ToList();
        Assert.Contains(messages, m => m.EndsWith("recipe.yaml: override 'train.steps=0': 'steps' is 0, expected between 1 and 10000000"));
        Assert.Contains(messages, m => m.Contains("override 'train.stpes=5': unknown key 'stpes' in train (did you mean 'steps'?"));
        Assert.Contains(messages, m => m.Contains("override 'loss.kind=kl': 'kind' is 'kl', expected one of: forward_kl, reverse_kl, jsd, tv, alm, uld"));
        Assert.Contains(messages, m => m.Contains("override 'steps' must read KEY.PATH=VALUE"));
        Assert.Contains(messages, m => m.Contains("override 'teachers.3.weight=1'"));
        Assert.Contains(messages, m => m.Contains("recipe.yaml:4:7: 'seed' is -1"));
    }

    [Fact]
    public void OverriddenPaths_AreRelativeToTheWorkingDirectory()
    {
        var e = Assert.Throws<RecipeException>(() => RecipeLoader.Load(Write(Minimal()), ["data.eval=no-such-heldout.txt"]));
        Assert.Equal($"override 'data.eval=no-such-heldout.txt': 'eval': {Path.GetFullPath("no-such-heldout.txt")} does not exist", Assert.Single(e.Errors).Message);
    }
}
