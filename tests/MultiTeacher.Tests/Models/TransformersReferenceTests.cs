using System.Text.Json;
using MultiTeacher.Checkpoints;
using MultiTeacher.Models;
using static TorchSharp.torch;

namespace MultiTeacher.Tests.Models;

/// <summary>
/// Logits of tiny random models against Hugging Face transformers' own forward pass (fixtures made by
/// tools/reference/make-model-fixtures.py with the versions in Fixtures/models/VERSIONS.txt).
/// </summary>
[Trait("Category", TestCategory.Unit)]
public class TransformersReferenceTests
{
    public static TheoryData<string> Fixtures() =>
    [
        "llama", "llama-rope-top-level", "mistral", "qwen2", "qwen3",
        "qwen2-window-off", "qwen2-window-layers", "qwen3-layer-types", "qwen3-default-head-dim",
    ];

    [Theory, MemberData(nameof(Fixtures))]
    public void Logits_MatchTransformers(string fixture)
    {
        var dir = TestAssets.FixturePath("models", fixture);
        using var model = PretrainedModel.Load(dir);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (ids, expected) = Reference(dir);
        var actual = model.forward(ids);
        var diff = (actual - expected).abs().max().item<float>();
        Assert.True(diff < 1e-4, $"{fixture}: max |logits - transformers| = {diff}");
    }

    /// <summary>A fixture's input ids (B, T) and transformers' float32 logits for them (B, T, V).</summary>
    internal static (Tensor Ids, Tensor Logits) Reference(string dir)
    {
        var rows = JsonSerializer.Deserialize<long[][]>(File.ReadAllText(Path.Combine(dir, "input_ids.json")))!;
        var ids = tensor(rows.SelectMany(r => r).ToArray()).view(rows.Length, rows[0].Length);
        using var reference = new SafetensorsFile(Path.Combine(dir, "reference_logits.safetensors"));
        return (ids, reference.Read("logits"));
    }

    [Fact]
    public void SlidingWindow_AppliesOnlyToTheLayersTransformersSlides()
    {
        var windowLayers = ModelConfig.FromPretrained(TestAssets.FixturePath("models", "qwen2-window-layers"));
        Assert.Equal([null, 6], Enumerable.Range(0, 2).Select(windowLayers.SlidingWindowOf));
        var layerTypes = ModelConfig.FromPretrained(TestAssets.FixturePath("models", "qwen3-layer-types"));
        Assert.Equal([5, null], Enumerable.Range(0, 2).Select(layerTypes.SlidingWindowOf));
        var off = ModelConfig.FromPretrained(TestAssets.FixturePath("models", "qwen2-window-off"));
        Assert.Equal([null, null], Enumerable.Range(0, 2).Select(off.SlidingWindowOf));
    }

    [Fact]
    public void RopeParameters_OfTransformersV5_GiveThetaAndScaling()
    {
        var v5 = ModelConfig.FromPretrained(TestAssets.FixturePath("models", "llama"));
        Assert.Equal(500000.0, v5.RopeTheta);
        Assert.Equal(("llama3", 8.0, 16), (v5.RopeScaling!.Kind, v5.RopeScaling.Factor, v5.RopeScaling.OriginalMaxPositionEmbeddings!.Value));
    }
}

/// <summary>What transformers assumes for keys a config.json leaves out, and keys refused because they change the forward pass.</summary>
[Trait("Category", TestCategory.Unit)]
public class ConfigDefaultsTests : TempDirectoryTest
{
    private ModelConfig Read(string json)
    {
        File.WriteAllText(Path.Combine(TempDir, "config.json"), json);
        return ModelConfig.FromPretrained(TempDir);
    }

    private const string Shape = "\"vocab_size\": 32, \"hidden_size\": 64, \"intermediate_size\": 96, \"num_hidden_layers\": 2, \"num_attention_heads\": 4";

    [Fact]
    public void Qwen3WithoutHeadDim_Uses128()
    {
        Assert.Equal(128, Read($$"""{"model_type": "qwen3", {{Shape}}}""").HeadDim);
        Assert.Equal(16, Read($$"""{"model_type": "qwen2", {{Shape}}}""").HeadDim);
    }

    [Fact]
    public void MistralWithoutSlidingWindow_Uses4096_AndNullMeansNone()
    {
        Assert.Equal(4096, Read($$"""{"model_type": "mistral", {{Shape}}}""").SlidingWindowOf(0));
        Assert.Null(Read($$"""{"model_type": "mistral", "sliding_window": null, {{Shape}}}""").SlidingWindowOf(0));
    }

    [Fact]
    public void Llama3ScalingWithoutOriginalLength_UsesMaxPositionEmbeddings()
    {
        var c = Read($$"""{"model_type": "llama", "max_position_embeddings": 4096, "rope_scaling": {"rope_type": "llama3", "factor": 8.0}, {{Shape}}}""");
        Assert.Equal(4096, c.RopeScaling!.OriginalMaxPositionEmbeddings);
    }

    [Theory]
    [InlineData("\"partial_rotary_factor\": 0.5", "partial_rotary_factor")]
    [InlineData("\"final_logit_softcapping\": 30.0", "final_logit_softcapping")]
    [InlineData("\"rope_parameters\": {\"rope_type\": \"yarn\", \"rope_theta\": 10000.0, \"factor\": 4.0}", "yarn")]
    [InlineData("\"layer_types\": [\"full_attention\", \"chunked_attention\"]", "chunked_attention")]
    public void KeysThatChangeTheComputation_AreRefusedByName(string entry, string named)
    {
        var e = Assert.Throws<InvalidDataException>(() => Read($$"""{"model_type": "llama", {{entry}}, {{Shape}}}"""));
        Assert.Contains(named, e.Message);
        Assert.Contains("config.json", e.Message);
    }
}
