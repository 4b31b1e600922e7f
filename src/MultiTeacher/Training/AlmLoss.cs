using static TorchSharp.torch;

namespace MultiTeacher.Training;

/// <summary>
/// Approximate likelihood matching (Minixhofer, Vulić, Ponti 2025, "Universal Cross-Tokenizer
/// Distillation via Approximate Likelihood Matching"). For each chunk c of an
/// <see cref="AlmChunkPlan"/>: ℓ_S = Σ log q(observed student tokens in c) [+ log q(next token
/// starts at a word boundary)], ℓ_T the same from the teacher's cache; with a = ℓ_T/τ and
/// b = ℓ_S/τ the chunk probabilities p_T = e^a, p_S = e^b are compared as Bernoulli variables by
/// the binary KL p_T log(p_T/p_S) + (1−p_T) log((1−p_T)/(1−p_S)), computed in the log domain with
/// log(1 − e^x) (log1mexp), and averaged over chunks. It is 0 exactly where ℓ_S = ℓ_T, for any τ.
/// The reference code (tokenkit) minimises the binary cross-entropy instead, which differs by the
/// teacher's binary entropy: the same gradient, but a loss that is not 0 at a perfect match.
/// </summary>
public static class AlmLoss
{
    // Keeps a chunk of probability 1 (log 0 after log1mexp) finite; shifts both sides alike, as tokenkit does.
    private const double Epsilon = 1e-6;
    // A chunk below e^-1000 counts as e^-1000, so an impossible chunk (−∞) gives no 0 · ∞.
    private const double Floor = -1000;

    /// <summary>Mean binary KL over the plan's chunks from student logits (N, V) of the flattened batch, in the logits' dtype (chunk sums in float64).</summary>
    public static Tensor Compute(Tensor studentLogits, AlmChunkPlan plan, Tensor boundaryMask)
    {
        using var scope = NewDisposeScope();
        return FromLogProbs(nn.functional.log_softmax(studentLogits, -1), plan, boundaryMask).MoveToOuterDisposeScope();
    }

    /// <summary>The same from log-probabilities the caller already has (shared with the hard-label cross-entropy).</summary>
    public static Tensor FromLogProbs(Tensor studentLogProbs, AlmChunkPlan plan, Tensor boundaryMask)
    {
        using var scope = NewDisposeScope();
        if (plan.Chunks == 0) return (studentLogProbs.sum() * 0).MoveToOuterDisposeScope();
        return PerChunk(studentLogProbs, plan, boundaryMask).mean().to(studentLogProbs.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>Each chunk's binary KL (C) in float64, for weighing chunks by their sequence; the plan must have a chunk.</summary>
    public static Tensor PerChunk(Tensor studentLogProbs, AlmChunkPlan plan, Tensor boundaryMask)
    {
        using var scope = NewDisposeScope();
        return PerChunk(AlmStudentSide.For(studentLogProbs, [plan], AlmStudentSide.BoundaryIds(boundaryMask)), plan).MoveToOuterDisposeScope();
    }

    /// <summary>The same from the student's side of the batch, read once for all the batch's plans.</summary>
    public static Tensor PerChunk(AlmStudentSide side, AlmChunkPlan plan)
    {
        using var scope = NewDisposeScope();
        if (plan.Chunks == 0) throw new ArgumentException("the plan has no chunk", nameof(plan));
        var device = side.Observed.device;
        var observed = side.Observed.index_select(0, tensor(plan.Rows.ToArray(), device: device));                      // (M)
        var chunkOf = tensor(plan.ChunkOfRow.ToArray(), device: device);
        var student = zeros(plan.Chunks, dtype: float64, device: device).index_add(0, chunkOf, observed, 1.0);               // (C)
        if (plan.Settings.Debias)
        {
            if (side.Boundary is null) throw new ArgumentException("the plan debiases its chunks but the student side has no boundary probabilities", nameof(side));
            student = student + side.Boundary.index_select(0, tensor(plan.EndRows.ToArray(), device: device));
        }
        var teacher = tensor(plan.TeacherLogLikelihood.ToArray(), dtype: float64, device: device);
        var tau = plan.Settings.Temperature;
        return BinaryKl((teacher / tau).clamp(Floor, 0) - Epsilon, (student / tau).clamp(Floor, 0) - Epsilon).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// (1/C) Σ_c w_{s(c)} · KL_c: the per-chunk losses (C) of <see cref="PerChunk"/> with each chunk
    /// weighed by its sequence's weight; with every weight w it is w times their mean.
    /// </summary>
    public static Tensor Weighted(Tensor perChunk, AlmChunkPlan plan, IReadOnlyList<double> sequenceWeights)
    {
        using var scope = NewDisposeScope();
        var weights = tensor(plan.SequenceOfChunk.Select(q => sequenceWeights[q]).ToArray(), dtype: perChunk.dtype, device: perChunk.device);
        return (perChunk * weights).mean().MoveToOuterDisposeScope();
    }

    /// <summary>KL(Bernoulli(e^a) ‖ Bernoulli(e^b)) for log-probabilities a, b &lt; 0.</summary>
    public static Tensor BinaryKl(Tensor a, Tensor b) =>
        a.exp() * (a - b) + (-a.expm1()) * (Log1mExp(a) - Log1mExp(b));

    /// <summary>log(1 − e^x) for x &lt; 0, accurate on both sides of −log 2 (Mächler 2012).</summary>
    public static Tensor Log1mExp(Tensor x) =>
        where(x.lt(-Math.Log(2)), (-x.exp()).log1p(), (-x.expm1()).log());
}
