using MultiTeacher.Checkpoints;
using MultiTeacher.Models;
using static TorchSharp.torch;

namespace MultiTeacher.Tests.Models;

/// <summary>Models built and loaded in bf16, as teachers run: every tensor bf16 from the start, logits within bf16 precision of transformers' float32 ones.</summary>
[Trait("Category", TestCategory.Unit)]
public class Bf16LoadingTests
{
    [Theory]
    [InlineData("llama")]
    [InlineData("qwen3")]
    public void LoadInBf16_HoldsTheCheckpointsValuesRoundedToBf16(string fixture)
    {
        var dir = TestAssets.FixturePath("models", fixture);
        using var model = PretrainedModel.Load(dir, ScalarType.BFloat16);
        using var checkpoint = new Checkpoint(dir);
        using var scope = NewDisposeScope();
        foreach (var (name, tensor) in model.state_dict())
        {
            Assert.Equal(ScalarType.BFloat16, tensor.dtype);
            Assert.True(TinyModels.Identical(tensor, checkpoint.Read(name).to(ScalarType.BFloat16)), $"{fixture}: {name} differs from the checkpoint rounded to bf16");
        }
    }

    [Fact]
    public void ModelBuiltInBf16_HasOnlyBf16Parameters()
    {
        using var model = new CausalLM(TinyModels.Config("qwen3"), dtype: ScalarType.BFloat16);
        Assert.All(model.state_dict(), kv => Assert.Equal(ScalarType.BFloat16, kv.Value.dtype));
    }

    [Theory, MemberData(nameof(TransformersReferenceTests.Fixtures), MemberType = typeof(TransformersReferenceTests))]
    public void Bf16Logits_FollowTransformersFloat32Logits_WithinBf16Precision(string fixture)
    {
        var dir = TestAssets.FixturePath("models", fixture);
        using var model = PretrainedModel.Load(dir, ScalarType.BFloat16);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (ids, expected) = TransformersReferenceTests.Reference(dir);
        var actual = model.forward(ids).to(float32);
        // bf16 keeps 8 significant bits: each of a few dozen roundings in a tiny model moves a logit by
        // about 0.4% of its scale; a wrong formula (a missing norm, rotation or scale) moves it by its whole scale.
        var scale = expected.abs().max().item<float>();
        var diff = (actual - expected).abs().max().item<float>();
        Assert.True(diff < 0.05 * scale, $"{fixture}: max |bf16 logits - transformers| = {diff}, logits scale {scale}");
    }
}
