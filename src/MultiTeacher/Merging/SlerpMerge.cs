using static TorchSharp.torch;

namespace MultiTeacher.Merging;

/// <summary>
/// Spherical linear interpolation (Shoemake 1985, "Animating rotation with quaternion curves";
/// mergekit's slerp) between the base θ₀ (t = 0) and the other model θ₁ (t = 1), each tensor
/// treated as one vector: with cos Ω = θ̂₀·θ̂₁ of the unit vectors,
/// θ = sin((1−t)Ω)/sin Ω · θ₀ + sin(tΩ)/sin Ω · θ₁. When |cos Ω| > 0.9995 the vectors are nearly
/// colinear and the division is ill-conditioned, so it falls back to lerp (1−t)θ₀ + tθ₁.
/// </summary>
public static class SlerpMerge
{
    public const double ColinearThreshold = 0.9995;
    private const double Epsilon = 1e-8;

    public static Tensor Merge(double t, Tensor v0, Tensor v1)
    {
        using var scope = NewDisposeScope();
        var a = v0.to(ScalarType.Float32);
        var b = v1.to(ScalarType.Float32);
        var na = a.to(ScalarType.Float64).norm().item<double>();
        var nb = b.to(ScalarType.Float64).norm().item<double>();
        // Like mergekit, a vector with (near) zero norm is left unnormalised rather than divided by zero.
        var dot = (a.to(ScalarType.Float64) * b.to(ScalarType.Float64)).sum().item<double>() / (na > Epsilon ? na : 1) / (nb > Epsilon ? nb : 1);
        if (Math.Abs(dot) > ColinearThreshold) return (a * (1 - t) + b * t).MoveToOuterDisposeScope();
        var theta = Math.Acos(dot);
        var s0 = Math.Sin(theta - theta * t) / Math.Sin(theta);
        var s1 = Math.Sin(theta * t) / Math.Sin(theta);
        return (a * s0 + b * s1).MoveToOuterDisposeScope();
    }
}
