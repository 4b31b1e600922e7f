using static TorchSharp.torch;

namespace MultiTeacher.Merging;

/// <summary>One fine-tuned model's tensor with its weight, density, the random stream DARE draws from, and TIES' trim threshold when the tensor is a block of a larger one.</summary>
public sealed record TaskVectorInput(Tensor Tensor, double Weight, double Density, Generator? Random = null, float? Threshold = null);

/// <summary>
/// Merges through task vectors δᵢ = θᵢ − θ_base (Ilharco et al. 2023, "Editing models with task
/// arithmetic", arXiv:2212.04089), the family mergekit calls generalized task arithmetic:
/// <list type="bullet">
/// <item>task_arithmetic: θ = θ_base + λ Σ wᵢ δᵢ (divided by Σ wᵢ when normalize).</item>
/// <item>ties (arXiv:2306.01708): trim each δᵢ to its top-density magnitudes; elect per entry the
/// sign of Σ wᵢ δᵢ (ties count as +); disjoint mean: Σ over models agreeing with the elected sign of
/// wᵢ δᵢ, divided by the Σ of their wᵢ when normalize.</item>
/// <item>dare_ties / dare_linear (arXiv:2311.03099): drop entries at random keeping density, rescale
/// by 1/density, then TIES' election or the plain weighted sum.</item>
/// </list>
/// </summary>
public static class TaskVectorMerge
{
    public static Tensor Merge(Tensor baseTensor, IReadOnlyList<TaskVectorInput> models, Sparsification sparsification,
        bool signConsensus, bool normalize, bool rescale, double lambda)
    {
        using var scope = NewDisposeScope();
        var theta0 = baseTensor.to(ScalarType.Float32);
        if (models.Count == 0) return theta0.clone().MoveToOuterDisposeScope();
        var weighted = new List<Tensor>(models.Count);
        foreach (var m in models)
        {
            using var inner = NewDisposeScope();
            var delta = m.Tensor.to(ScalarType.Float32) - theta0;
            delta = sparsification switch
            {
                Sparsification.Magnitude => Sparsify.Magnitude(delta, m.Density, m.Threshold),
                Sparsification.Random => Sparsify.Random(delta, m.Density, rescale,
                    m.Random ?? throw new ArgumentException("random sparsification needs a generator per model")),
                _ => delta,
            };
            weighted.Add(delta.mul_(m.Weight).MoveToOuterDisposeScope());
        }

        Tensor mixed, divisor;
        if (signConsensus)
        {
            var total = zeros_like(theta0);
            // Scalars held by a local stay alive through the native call; the implicit ones of
            // add_(Tensor) and alpha: can be finalized by the GC while libtorch still reads them.
            using TorchSharp.Scalar one = 1.0;
            foreach (var w in weighted) total.add_(w, one);
            var elected = total.ge(0).to(ScalarType.Float32).mul_(2).sub_(1);
            mixed = zeros_like(theta0);
            divisor = zeros_like(theta0);
            for (var i = 0; i < weighted.Count; i++)
            {
                using var inner = NewDisposeScope();
                var agrees = weighted[i].sign().eq(elected);
                mixed.add_(weighted[i] * agrees);
                using TorchSharp.Scalar weight = models[i].Weight;
                divisor.add_(agrees.to(ScalarType.Float32), weight);
            }
            divisor.masked_fill_(divisor.eq(0), 1);
        }
        else
        {
            mixed = zeros_like(theta0);
            foreach (var w in weighted) mixed.add_(w);
            var sum = models.Sum(m => m.Weight);
            divisor = tensor(Math.Abs(sum) < 1e-8 ? 1f : (float)sum);
        }
        if (normalize) mixed.div_(divisor);
        return (theta0 + mixed.mul_(lambda)).MoveToOuterDisposeScope();
    }
}
