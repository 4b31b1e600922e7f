using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MultiTeacher.Models;

/// <summary>Root-mean-square layer norm, computed in fp32 as Hugging Face's LlamaRMSNorm does.</summary>
public sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // field names are the checkpoint keys
    private readonly Parameter weight;
#pragma warning restore IDE1006
    private readonly double _eps;

    public RmsNorm(long size, double eps, Device? device = null, ScalarType? dtype = null) : base(nameof(RmsNorm))
    {
        weight = nn.Parameter(ones(size, dtype: dtype, device: device));
        _eps = eps;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = x.to(float32);
        var variance = h.pow(2).mean([-1], keepdim: true);     // (..., 1)
        h = h * rsqrt(variance + _eps);
        return (weight * h.to(x.dtype)).MoveToOuterDisposeScope();
    }
}
