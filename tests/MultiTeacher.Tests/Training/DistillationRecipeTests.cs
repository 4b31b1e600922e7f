using MultiTeacher.Models;
using MultiTeacher.Recipes;
using MultiTeacher.Tests.Cli;
using MultiTeacher.Tests.Models;
using MultiTeacher.Tests.Integration;
using MultiTeacher.Training;
using static TorchSharp.torch;

namespace MultiTeacher.Tests.Training;

public sealed class DistillationRecipeTests : TempDirectoryTest
{
    private string HardLabelRecipe(TinyRuns runs, string name, string init, string precision = "float32")
    {
        return runs.WriteRecipe(name, $"""
            seed: 5
            data: {"{"} train: train.txt, seq_len: 24 {"}"}
            student: {"{"} {init} {"}"}
            train: {"{"} steps: 6, batch_size: 3, lr: 0.004, warmup_steps: 1, checkpoint_every: 3, precision: {precision} {"}"}
            """);
    }

    [Fact, Trait("Category", TestCategory.Unit)]
    public void Constructor_OnlyStoresSettings_SetupLoads_AndTrainNeedsSetup()
    {
        var runs = new TinyRuns(TempDir);
        runs.WriteData(trainDocuments: 1, trainChars: 1200);
        var config = runs.WriteConfig("student", "qwen2", 32000);
        var recipe = RecipeLoader.Load(HardLabelRecipe(runs, "shape", $"config: {config}, tokenizer: {TestAssets.TokenizerDir("mistral-7b-v0.1")}"));
        // An input that breaks after the recipe was checked: constructing does not read it, Setup does.
        File.Delete(config);
        using var run = new DistillationRecipe(recipe, TextWriter.Null);
        Assert.Throws<InvalidOperationException>(() => run.Train());
        Assert.ThrowsAny<IOException>(run.Setup);
    }

    [Theory, Trait("Category", TestCategory.Unit)]
    [InlineData("float32")]
    [InlineData("bfloat16")]
    public void ResumedRun_EndsBitIdenticalToAnUninterruptedRun(string precision)
    {
        var runs = new TinyRuns(TempDir);
        runs.WriteData(trainDocuments: 2, trainChars: 2500);
        var config = runs.WriteConfig("student", "qwen2", 32000);
        var init = $"config: {config}, tokenizer: {TestAssets.TokenizerDir("mistral-7b-v0.1")}";

        var full = RecipeLoader.Load(HardLabelRecipe(runs, "full", init, precision));
        using (var run = new DistillationRecipe(full, TextWriter.Null)) { run.Setup(); run.Train(); }

        var split = RecipeLoader.Load(HardLabelRecipe(runs, "split", init, precision));
        using (var cancel = new CancellationTokenSource())
        using (var run = new DistillationRecipe(split, TextWriter.Null))
        {
            run.Setup();
            Assert.Equal(3, Assert.Throws<TrainingCancelledException>(() => run.Train(m => { if (m.Step == 3) cancel.Cancel(); }, cancel: cancel.Token)).Step);
        }
        Assert.False(File.Exists(Path.Combine(runs.Output("split"), "student", "model.safetensors")));
        using (var run = new DistillationRecipe(split, TextWriter.Null)) { run.Setup(); run.Train(resume: true); }

        Assert.Equal(File.ReadAllBytes(Path.Combine(runs.Output("full"), "student", "model.safetensors")),
                     File.ReadAllBytes(Path.Combine(runs.Output("split"), "student", "model.safetensors")));
        Assert.Equal(6, runs.Metrics("split").Count);
    }

    /// <summary>Database: `mt run` records lineage, so it starts PostgreSQL.</summary>
    [Fact, Trait("Category", TestCategory.Database)]
    public void NaNLoss_StopsTheRun_NamingTheStepAndBatch_WithExitCode1()
    {
        var runs = new TinyRuns(TempDir);
        runs.WriteData(trainDocuments: 1, trainChars: 1500);
        var modelDir = Path.Combine(TempDir, "poisoned");
        var config = TinyModels.Config("mistral", vocab: 32000);
        using (var model = TinyModels.Create(config))
        {
            using (no_grad()) model.state_dict()["model.norm.weight"].fill_(double.NaN);
            PretrainedModel.Save(model, modelDir, TestAssets.TokenizerDir("mistral-7b-v0.1"));
        }
        var recipe = HardLabelRecipe(runs, "poisoned", $"init: {modelDir}");
        var e = Assert.Throws<TrainingDivergedException>(() =>
        {
            using var run = new DistillationRecipe(RecipeLoader.Load(recipe), TextWriter.Null);
            run.Setup();
            run.Train();
        });
        Assert.Equal(1, e.Step);
        Assert.Equal(3, e.Samples.Count);
        var (code, _, error) = CliRunner.Run("", "run", recipe);
        Assert.Equal(1, code);
        Assert.Contains("not finite at step 1", error);
    }

    [Fact, Trait("Category", TestCategory.Unit)]
    public void ClippingOff_StillMeasuresAndRecordsTheGradientNorm()
    {
        var runs = new TinyRuns(TempDir);
        runs.WriteData(trainDocuments: 1, trainChars: 1200);
        var config = runs.WriteConfig("student", "qwen2", 32000);
        var recipe = runs.WriteRecipe("noclip", $"""
            seed: 1
            data: {"{"} train: train.txt, seq_len: 16 {"}"}
            student: {"{"} config: {config}, tokenizer: {TestAssets.TokenizerDir("mistral-7b-v0.1")} {"}"}
            train: {"{"} steps: 2, batch_size: 2, clip: 0 {"}"}
            """);
        using (var run = new DistillationRecipe(RecipeLoader.Load(recipe), TextWriter.Null)) { run.Setup(); run.Train(); }
        Assert.All(runs.Metrics("noclip"), m => Assert.True(m.GetProperty("grad_norm").GetDouble() > 0));
    }
}
