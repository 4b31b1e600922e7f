using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MultiTeacher.Models;

/// <summary>
/// Grouped-query self-attention with rotary embeddings, optional q/k/v biases (Qwen2), per-head
/// q/k RMSNorm (Qwen3), a KV cache for incremental decoding, and a sliding window where the config gives this layer one.
/// </summary>
public sealed class Attention : nn.Module<Tensor, Tensor, Tensor, Tensor>
{
#pragma warning disable IDE1006 // field names are the checkpoint keys
    private readonly Linear q_proj, k_proj, v_proj, o_proj;
    private readonly RmsNorm? q_norm, k_norm;
#pragma warning restore IDE1006
    private readonly int _heads, _kvHeads, _headDim, _layer;
    private readonly int? _window;

    public KvCache? Cache { get; set; }

    public Attention(ModelConfig c, int layer, Device? device = null, ScalarType? dtype = null) : base(nameof(Attention))
    {
        (_heads, _kvHeads, _headDim, _layer) = (c.NumAttentionHeads, c.KeyValueHeads, c.HeadDim, layer);
        _window = c.SlidingWindowOf(layer);
        q_proj = Unfilled.Linear(c.HiddenSize, _heads * _headDim, c.QkvBias, device, dtype);
        k_proj = Unfilled.Linear(c.HiddenSize, _kvHeads * _headDim, c.QkvBias, device, dtype);
        v_proj = Unfilled.Linear(c.HiddenSize, _kvHeads * _headDim, c.QkvBias, device, dtype);
        o_proj = Unfilled.Linear(_heads * _headDim, c.HiddenSize, c.OutputBias, device, dtype);
        if (c.QkNorm)
        {
            q_norm = new RmsNorm(_headDim, c.RmsNormEps, device, dtype);
            k_norm = new RmsNorm(_headDim, c.RmsNormEps, device, dtype);
        }
        RegisterComponents();
    }

    /// <summary>x (B, T, C); cos, sin (T, D) for this step's positions.</summary>
    public override Tensor forward(Tensor x, Tensor cos, Tensor sin)
    {
        using var scope = NewDisposeScope();
        var (b, t) = (x.shape[0], x.shape[1]);
        var q = q_proj.forward(x).view(b, t, _heads, _headDim);                  // (B, T, H, D)
        var k = k_proj.forward(x).view(b, t, _kvHeads, _headDim);                // (B, T, Hkv, D)
        var v = v_proj.forward(x).view(b, t, _kvHeads, _headDim);                // (B, T, Hkv, D)
        if (q_norm is not null) { q = q_norm.forward(q); k = k_norm!.forward(k); }
        q = RotaryEmbedding.Apply(q.transpose(1, 2), cos, sin);                  // (B, H, T, D)
        k = RotaryEmbedding.Apply(k.transpose(1, 2), cos, sin);                  // (B, Hkv, T, D)
        v = v.transpose(1, 2);                                                    // (B, Hkv, T, D)

        var past = Cache?.LengthOf(_layer) ?? 0;
        if (Cache is not null) (k, v) = Cache.Append(_layer, k, v);              // (B, Hkv, S, D), S = past + T
        if (_kvHeads != _heads)
        {
            k = k.repeat_interleave(_heads / _kvHeads, dim: 1);                  // (B, H, S, D)
            v = v.repeat_interleave(_heads / _kvHeads, dim: 1);
        }

        var total = past + t;
        var windowed = _window is { } w && total > w;
        Tensor y;
        if (past == 0 && !windowed)
            y = nn.functional.scaled_dot_product_attention(q, k, v, is_casual: true);
        else
            y = nn.functional.scaled_dot_product_attention(q, k, v, Mask(t, past, x.device));
        y = y.transpose(1, 2).reshape(b, t, _heads * _headDim);                   // (B, T, H*D)
        return o_proj.forward(y).MoveToOuterDisposeScope();                        // (B, T, C)
    }

    // Query i (absolute position past + i) sees key j when j <= past + i and, with a sliding
    // window W, j > past + i - W (itself and the W - 1 before it, as transformers does).
    private Tensor Mask(long t, long past, Device device)
    {
        using var scope = NewDisposeScope();
        var queries = arange(past, past + t, device: device).unsqueeze(1);         // (T, 1)
        var keys = arange(0, past + t, device: device).unsqueeze(0);               // (1, S)
        var allowed = keys <= queries;
        if (_window is { } w) allowed = allowed & (keys > queries - w);
        return allowed.MoveToOuterDisposeScope();                                   // (T, S)
    }
}
