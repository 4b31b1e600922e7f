using static TorchSharp.torch;

namespace MultiTeacher.Merging;

/// <summary>
/// Linear merge ("model soups", Wortsman et al. 2022, arXiv:2203.05482): θ = Σ wᵢ θᵢ / Σ wᵢ, or the
/// plain weighted sum Σ wᵢ θᵢ when normalize is false.
/// </summary>
public static class LinearMerge
{
    public static Tensor Merge(IReadOnlyList<Tensor> tensors, IReadOnlyList<double> weights, bool normalize)
    {
        if (tensors.Count == 0 || tensors.Count != weights.Count) throw new ArgumentException("one weight per tensor, at least one tensor");
        using var scope = NewDisposeScope();
        var sum = zeros_like(tensors[0], dtype: ScalarType.Float32);
        for (var i = 0; i < tensors.Count; i++)
        {
            // A scalar held by a local stays alive through the native call (see TaskVectorMerge).
            using TorchSharp.Scalar weight = weights[i];
            sum.add_(tensors[i].to(ScalarType.Float32), weight);
        }
        var total = weights.Sum();
        if (normalize && Math.Abs(total) > 1e-8) sum.div_(total);
        return sum.MoveToOuterDisposeScope();
    }
}
