using MultiTeacher.Runtime;
using static TorchSharp.torch;

namespace MultiTeacher.Models;

/// <summary>Pre-norm transformer block: x + attn(norm(x)), then h + mlp(norm(h)).</summary>
public sealed class DecoderLayer : nn.Module<Tensor, Tensor, Tensor, Tensor>
{
#pragma warning disable IDE1006 // field names are the checkpoint keys
    private readonly RmsNorm input_layernorm, post_attention_layernorm;
    private readonly Attention self_attn;
    private readonly Mlp mlp;
#pragma warning restore IDE1006

    public DecoderLayer(ModelConfig c, int layer, Device? device = null, ScalarType? dtype = null) : base(nameof(DecoderLayer))
    {
        input_layernorm = new RmsNorm(c.HiddenSize, c.RmsNormEps, device, dtype);
        self_attn = new Attention(c, layer, device, dtype);
        post_attention_layernorm = new RmsNorm(c.HiddenSize, c.RmsNormEps, device, dtype);
        mlp = new Mlp(c, device, dtype);
        RegisterComponents();
    }

    public Attention SelfAttention => self_attn;

    public override Tensor forward(Tensor x, Tensor cos, Tensor sin)
    {
        using var scope = NewDisposeScope();
        var h = x.add(self_attn.forward(input_layernorm.forward(x), cos, sin), Scalars.One);   // (B, T, C); see Runtime/Scalars
        return h.add(mlp.forward(post_attention_layernorm.forward(h)), Scalars.One).MoveToOuterDisposeScope();
    }
}
