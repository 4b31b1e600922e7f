using TorchSharp;
using MultiTeacher.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MultiTeacher.Models;

/// <summary>Root-mean-square layer norm, computed in fp32 as Hugging Face's LlamaRMSNorm does.</summary>
public sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // field names are the checkpoint keys
    private readonly Parameter weight;
#pragma warning restore IDE1006
    // Owned for the module's lifetime rather than passed inline (see Runtime/Scalars).
    private readonly Scalar _eps;

    public RmsNorm(long size, double eps, Device? device = null, ScalarType? dtype = null) : base(nameof(RmsNorm))
    {
        weight = nn.Parameter(ones(size, dtype: dtype, device: device));
        _eps = eps.ToScalar();
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = x.to(float32);
        // h * h rather than square(): TorchSharp passes square's exponent as a finalizable Scalar that a
        // collection on another thread can free mid-call (dotnet/TorchSharp#1496); libtorch computes both as x·x.
        var variance = (h * h).mean([-1], keepdim: true);   // (..., 1)
        h = h * rsqrt(variance.add(_eps, Scalars.One));
        return (weight * h.to(x.dtype)).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _eps.Dispose();
        base.Dispose(disposing);
    }
}
