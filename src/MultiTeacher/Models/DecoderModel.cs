using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MultiTeacher.Models;

/// <summary>The transformer body ("model." in checkpoints): token embeddings, decoder layers, final norm.</summary>
public sealed class DecoderModel : nn.Module<Tensor, long, Tensor>
{
#pragma warning disable IDE1006 // field names are the checkpoint keys
    private readonly TokenEmbedding embed_tokens;
    private readonly ModuleList<DecoderLayer> layers;
    private readonly RmsNorm norm;
#pragma warning restore IDE1006
    private readonly RotaryEmbedding _rotary;

    public DecoderModel(ModelConfig c, Device? device = null, ScalarType? dtype = null) : base(nameof(DecoderModel))
    {
        embed_tokens = new TokenEmbedding(c.VocabSize, c.HiddenSize, device, dtype);
        layers = nn.ModuleList(Enumerable.Range(0, c.NumHiddenLayers).Select(i => new DecoderLayer(c, i, device, dtype)).ToArray());
        norm = new RmsNorm(c.HiddenSize, c.RmsNormEps, device, dtype);
        _rotary = new RotaryEmbedding(c);
        RegisterComponents();
    }

    public TokenEmbedding EmbedTokens => embed_tokens;
    public IReadOnlyList<DecoderLayer> Layers => [.. layers];

    /// <summary>ids (B, T) at absolute positions [start, start + T) → hidden states (B, T, C).</summary>
    public override Tensor forward(Tensor ids, long start)
    {
        using var scope = NewDisposeScope();
        var h = embed_tokens.forward(ids);                                          // (B, T, C)
        var (cos, sin) = _rotary.Table(start, ids.shape[1], h.device, h.dtype);     // (T, D) each
        foreach (var layer in layers) h = layer.forward(h, cos, sin);
        return norm.forward(h).MoveToOuterDisposeScope();
    }
}
