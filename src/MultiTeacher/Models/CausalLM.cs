using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MultiTeacher.Models;

/// <summary>
/// A decoder-only language model (LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM,
/// Qwen3ForCausalLM): body plus lm_head, or the embedding matrix itself when embeddings are tied.
/// Parameter names match the Hugging Face checkpoint keys exactly.
/// </summary>
public sealed class CausalLM : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // field names are the checkpoint keys
    private readonly DecoderModel model;
    private readonly Linear? lm_head;
#pragma warning restore IDE1006

    public ModelConfig Config { get; }

    /// <param name="dtype">The parameters' dtype from the start (default: torch's, float32), so a bf16 model never exists in float32.</param>
    public CausalLM(ModelConfig config, Device? device = null, ScalarType? dtype = null) : base(nameof(CausalLM))
    {
        config.Validate("config");
        Config = config;
        model = new DecoderModel(config, device, dtype);
        if (!config.TieWordEmbeddings) lm_head = Unfilled.Linear(config.HiddenSize, config.VocabSize, false, device, dtype);
        RegisterComponents();
    }

    public long ParameterCount => parameters().Sum(p => p.numel());

    /// <summary>Logits (B, T, V) for ids (B, T), without a cache.</summary>
    public override Tensor forward(Tensor ids) => Forward(ids, cache: null);

    /// <summary>
    /// Logits (B, T, V); with a cache, ids are the next T positions after those cached. With
    /// <paramref name="lastPositionOnly"/>, logits (B, 1, V) of the last position alone (decoding
    /// needs no more, and the vocabulary projection is the largest matmul of a small model).
    /// </summary>
    public Tensor Forward(Tensor ids, KvCache? cache, bool lastPositionOnly = false)
    {
        using var scope = NewDisposeScope();
        var h = Hidden(ids, cache);                                                       // (B, T, C)
        if (lastPositionOnly) h = h[.., ^1..];                                            // (B, 1, C)
        return Head(h).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The body's output (B, T, C) after the final norm: what <see cref="Head"/> turns into logits.
    /// Split from the head so callers with a large vocabulary can project a few positions at a time.
    /// </summary>
    public Tensor Hidden(Tensor ids, KvCache? cache = null)
    {
        using var scope = NewDisposeScope();
        foreach (var layer in model.Layers) layer.SelfAttention.Cache = cache;
        try { return model.forward(ids, cache?.Length ?? 0).MoveToOuterDisposeScope(); }
        finally { foreach (var layer in model.Layers) layer.SelfAttention.Cache = null; }
    }

    /// <summary>Logits (..., V) of hidden states (..., C): lm_head, or the embedding matrix when tied.</summary>
    public Tensor Head(Tensor hidden) =>
        lm_head is null ? matmul(hidden, model.EmbedTokens.Weight.t()) : lm_head.forward(hidden);

    /// <summary>
    /// Fresh weights as transformers initialises these models: matrices N(0, std²), biases zero,
    /// norm weights one. Deterministic for a given generator.
    /// </summary>
    public void InitializeWeights(Generator generator, double std = 0.02)
    {
        using var noGrad = no_grad();
        foreach (var (name, p) in named_parameters())
        {
            if (name.EndsWith("norm.weight")) p.fill_(1);
            else if (name.EndsWith(".bias")) p.zero_();
            else p.normal_(0, std, generator);
        }
    }

    /// <summary>Parameter count of a config, from a model built on the meta device (no memory).</summary>
    public static long CountParameters(ModelConfig config)
    {
        using var meta = new CausalLM(config, new Device(TorchSharp.DeviceType.META));
        return meta.ParameterCount;
    }
}
