using System.Text.Json;
using MultiTeacher.Models;
using static TorchSharp.torch;

namespace MultiTeacher.Tests.Models;

[Trait("Category", TestCategory.Unit)]
public sealed class SamplingTests : TempDirectoryTest
{
    private static bool[] Kept(float[] logits, int topK, double topP)
    {
        using var scope = NewDisposeScope();
        return Sampling.Filter(tensor(logits), topK, topP).data<float>().Select(float.IsFinite).ToArray();
    }

    private static float[] Log(params double[] probabilities) => probabilities.Select(p => (float)Math.Log(p)).ToArray();

    [Fact]
    public void TopK_KeepsTheKLargest_AndTiesWithTheKth()
    {
        Assert.Equal([false, true, false, true, false], Kept([1, 3, 2, 3, 0], topK: 2, topP: 1));
        Assert.Equal([false, true, true, true, false], Kept([1, 3, 2, 3, 0], topK: 3, topP: 1));
        Assert.Equal([false, true, false, true, false], Kept([1, 3, 2, 3, 0], topK: 1, topP: 1));
        Assert.Equal([true, true, true, true, true], Kept([1, 3, 2, 3, 0], topK: 0, topP: 1));
        Assert.Equal([true, true, true, true, true], Kept([1, 3, 2, 3, 0], topK: 9, topP: 1));
    }

    [Fact]
    public void TopP_KeepsTheSmallestMostLikelySetReachingP()
    {
        // Descending: 0.5 (0), 0.25 (2), 0.15 (3), 0.1 (1); mass before each: 0, 0.5, 0.75, 0.9.
        var logits = Log(0.5, 0.1, 0.25, 0.15);
        Assert.Equal([true, false, false, false], Kept(logits, 0, 0.4));
        Assert.Equal([true, false, true, false], Kept(logits, 0, 0.6));
        Assert.Equal([true, false, true, true], Kept(logits, 0, 0.8));
        Assert.Equal([true, true, true, true], Kept(logits, 0, 0.95));
        Assert.Equal([true, false, false, false], Kept(logits, 0, 0.01));
    }

    [Fact]
    public void TopP_AfterTopK_MeasuresMassOnTheTokensTopKKept()
    {
        // Top-3 of (0.4, 0.3, 0.2, 0.1) renormalised is (4/9, 3/9, 2/9): mass before each 0, 0.444, 0.778,
        // so p = 0.75 keeps two; on the unfiltered probabilities (mass before 0, 0.4, 0.7) it would keep three.
        Assert.Equal([true, true, false, false], Kept(Log(0.4, 0.3, 0.2, 0.1), 3, 0.75));
        Assert.Equal([true, true, true, false], Kept(Log(0.4, 0.3, 0.2, 0.1), 0, 0.75));
    }

    [Fact]
    public void SamplingWithTopKOne_IsGreedyDecoding()
    {
        using var model = TinyModels.Create(TinyModels.Config("mistral"));
        int[] prompt = [5, 17, 42];
        Assert.Equal(TextGenerator.Generate(model, prompt, 8), TextGenerator.Generate(model, prompt, 8, new Sampling(Temperature: 1.5, TopK: 1, Seed: 4)));
        Assert.NotEqual(TextGenerator.Generate(model, prompt, 8), TextGenerator.Generate(model, prompt, 8, new Sampling(Temperature: 50, Seed: 4)));
    }

    [Fact]
    public void SavedGenerationConfig_TakesEosAndBosFromTheTokenizer_WhenTheConfigHasNone()
    {
        using var model = TinyModels.Create(TinyModels.Config("mistral"));
        var dir = Path.Combine(TempDir, "m");
        PretrainedModel.Save(model, dir, TestAssets.TokenizerDir("mistral-7b-v0.1"));
        using var generation = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "generation_config.json")));
        Assert.Equal(2, generation.RootElement.GetProperty("eos_token_id").GetInt32());   // </s>
        Assert.Equal(1, generation.RootElement.GetProperty("bos_token_id").GetInt32());   // <s>
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "config.json")));
        Assert.Equal(2, config.RootElement.GetProperty("eos_token_id").GetInt32());
    }

    [Fact]
    public void SavedGenerationConfig_KeepsTheConfigsOwnEos()
    {
        var config = TinyModels.Config("llama");
        config.EosTokenId = JsonSerializer.SerializeToElement(new[] { 7, 9 });
        using var model = TinyModels.Create(config);
        var dir = Path.Combine(TempDir, "m");
        PretrainedModel.Save(model, dir, TestAssets.TokenizerDir("llama3"));
        using var generation = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "generation_config.json")));
        Assert.Equal([7, 9], generation.RootElement.GetProperty("eos_token_id").EnumerateArray().Select(e => e.GetInt32()));
    }
}
