using MultiTeacher.Models;
using static TorchSharp.torch;

namespace MultiTeacher.Tests.Models;

/// <summary>Tiny configs of every supported family, with random weights, for fast real-model tests.</summary>
public static class TinyModels
{
    public static readonly string[] Families = ["llama", "mistral", "qwen2", "qwen3"];

    public static TheoryData<string> FamilyData() => [.. Families];

    public static ModelConfig Config(string family, int vocab = 320) => new()
    {
        ModelType = family,
        VocabSize = vocab,
        HiddenSize = 64,
        IntermediateSize = 96,
        NumHiddenLayers = 2,
        NumAttentionHeads = 4,
        NumKeyValueHeads = 2,
        // Qwen3 declares head_dim independently of hidden_size / heads.
        HeadDimOverride = family == "qwen3" ? 24 : null,
        RmsNormEps = 1e-6,
        RopeTheta = family == "llama" ? 500000 : 10000,
        RopeScaling = family == "llama" ? new RopeScaling { RopeType = "llama3", Factor = 8, OriginalMaxPositionEmbeddings = 16 } : null,
        TieWordEmbeddings = family is "qwen2" or "qwen3",
        SlidingWindow = family == "mistral" ? 4096 : null,
        BosTokenId = null,
    };

    /// <summary>A model whose every parameter (norm weights and biases too) is random, so no term can hide.</summary>
    public static CausalLM Create(ModelConfig config, long seed = 1)
    {
        var model = new CausalLM(config);
        using var noGrad = no_grad();
        using var generator = new Generator((ulong)seed);
        foreach (var (name, p) in model.named_parameters())
        {
            using var scope = NewDisposeScope();
            var noise = randn(p.shape, generator: generator) * 0.2;
            p.copy_(name.EndsWith("norm.weight") ? noise + 1 : noise);
        }
        model.eval();
        return model;
    }

    /// <summary>Same shape and bit-for-bit the same values.</summary>
    public static bool Identical(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    public static Tensor RandomIds(ModelConfig config, int batch, int length, long seed) =>
        randint(0, config.VocabSize, [batch, length], generator: new Generator((ulong)seed));
}
