using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MultiTeacher.Models;

/// <summary>
/// The token embedding ("embed_tokens"): row i of weight (V, C) is token i's vector. Its own module
/// rather than nn.Embedding because TorchSharp's native Embedding draws random weights on
/// construction, even on the meta device (seconds for a 128k vocabulary), and every model's
/// weights are written right after it is built (see <see cref="Unfilled"/>).
/// </summary>
public sealed class TokenEmbedding : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // field names are the checkpoint keys
    private readonly Parameter weight;
#pragma warning restore IDE1006

    /// <summary>An unfilled (V, C) weight.</summary>
    public TokenEmbedding(long count, long size, Device? device = null, ScalarType? dtype = null) : base(nameof(TokenEmbedding))
    {
        weight = Unfilled.Parameter([count, size], dtype, device);
        RegisterComponents();
    }

    public Parameter Weight => weight;

    /// <summary>ids (...) → vectors (..., C).</summary>
    public override Tensor forward(Tensor ids)
    {
        using var scope = NewDisposeScope();
        var rows = weight.index_select(0, ids.reshape(-1));                                   // (N, C)
        return rows.view([.. ids.shape, weight.shape[1]]).MoveToOuterDisposeScope();          // (..., C)
    }
}
