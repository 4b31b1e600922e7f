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

    /// <summary>The angle between two whole tensors, from sums gathered block by block (<see cref="RowSums"/>).</summary>
    public sealed class Angle
    {
        private readonly RowSums _dot = new(), _a = new(), _b = new();

        public void Add(Tensor v0, Tensor v1)
        {
            using var scope = NewDisposeScope();
            var (a, b) = (v0.to(ScalarType.Float64), v1.to(ScalarType.Float64));
            _dot.Add(a * b);
            _a.Add(a * a);
            _b.Add(b * b);
        }

        /// <summary>cos Ω; like mergekit, a vector with (near) zero norm is left unnormalised rather than divided by zero.</summary>
        public double Cosine
        {
            get
            {
                var (na, nb) = (Math.Sqrt(_a.Total), Math.Sqrt(_b.Total));
                return _dot.Total / (na > Epsilon ? na : 1) / (nb > Epsilon ? nb : 1);
            }
        }
    }

    public static Tensor Merge(double t, Tensor v0, Tensor v1)
    {
        var angle = new Angle();
        angle.Add(v0, v1);
        return Merge(t, v0, v1, angle);
    }

    /// <summary>Merges <paramref name="v0"/> and <paramref name="v1"/> (the whole tensors or the same rows of each) at the angle of the whole tensors.</summary>
    public static Tensor Merge(double t, Tensor v0, Tensor v1, Angle angle)
    {
        using var scope = NewDisposeScope();
        var a = v0.to(ScalarType.Float32);
        var b = v1.to(ScalarType.Float32);
        var dot = angle.Cosine;
        if (Math.Abs(dot) > ColinearThreshold) return (a * (1 - t) + b * t).MoveToOuterDisposeScope();
        var theta = Math.Acos(dot);
        var s0 = Math.Sin(theta - theta * t) / Math.Sin(theta);
        var s1 = Math.Sin(theta * t) / Math.Sin(theta);
        return (a * s0 + b * s1).MoveToOuterDisposeScope();
    }
}
