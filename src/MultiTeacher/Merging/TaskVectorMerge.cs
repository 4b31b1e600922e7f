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
        using var theta0 = new FloatReader(baseTensor);
        var inputs = new List<KernelInput>(models.Count);
        try
        {
            foreach (var m in models) inputs.Add(Input(baseTensor, m, sparsification, rescale));
            // A whole tensor's trim thresholds, all found in one pass over its entries.
            var find = inputs.Select((input, i) => float.IsNaN(input.Threshold)).ToArray();
            if (find.Any(f => f))
            {
                var ks = inputs.Select((_, i) => find[i] ? Sparsify.KeptEntries(models[i].Density, theta0.Count) : 0).ToArray();
                var found = TrimThreshold.Find(theta0, inputs.Select(i => i.Values).ToList(), ks, theta0.Count, (_, _) => { }, out _);
                for (var i = 0; i < inputs.Count; i++)
                    if (find[i]) inputs[i] = inputs[i] with { Threshold = found[i] };
            }
            var output = empty(baseTensor.shape, ScalarType.Float32);
            TaskVectorKernel.Merge(theta0, inputs, signConsensus, normalize, (float)lambda, 0, output);
            return output.MoveToOuterDisposeScope();
        }
        finally
        {
            foreach (var input in inputs) input.Values.Dispose();
        }
    }

    /// <summary>
    /// How the kernel reads one model. TIES' trim (Yadav et al. 2023, arXiv:2306.01708) keeps the
    /// ⌊density·n⌋ entries of δ of largest magnitude (entries tied with the smallest kept magnitude
    /// are all kept): its threshold is the block's given one, or the k-th largest |δ| of this whole
    /// tensor, found by selection rather than a sort or top-k, which would hold n indices.
    /// </summary>
    /// <remarks>A threshold still to be found is NaN.</remarks>
    private static KernelInput Input(Tensor baseTensor, TaskVectorInput m, Sparsification sparsification, bool rescale)
    {
        if (sparsification == Sparsification.Random)
        {
            using var scope = NewDisposeScope();
            var delta = m.Tensor.to(ScalarType.Float32) - baseTensor.to(ScalarType.Float32);
            var dropped = Sparsify.Random(delta, m.Density, rescale, m.Random ?? throw new ArgumentException("random sparsification needs a generator per model"));
            return new KernelInput(new FloatReader(dropped.mul_(m.Weight)), (float)m.Weight, 0, Precomputed: true);
        }
        var values = new FloatReader(m.Tensor);
        var threshold = sparsification != Sparsification.Magnitude || m.Density >= 1 ? 0f
            : m.Threshold ?? float.NaN;
        return new KernelInput(values, (float)m.Weight, threshold, Precomputed: false);
    }
}
