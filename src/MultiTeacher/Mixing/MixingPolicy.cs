using MultiTeacher.Runtime;
using static TorchSharp.torch;

namespace MultiTeacher.Mixing;

/// <summary>
/// Teacher distributions at N aligned positions over the student vocabulary, on the union of their
/// supports: Values (K, N, M) at the support's slots, Rest (K, N) at each token outside it;
/// Present (K, N) bool; GoldLogProb (K, N) = log q_k(gold next token), needed by the
/// cross-entropy policies; Sequence (N) long = which sequence each position is in.
/// </summary>
public sealed record MixingInput(Support Support, Tensor Values, Tensor Rest, Tensor Present, Tensor? GoldLogProb = null, Tensor? Sequence = null)
{
    /// <summary>Dense teacher distributions (K, N, V), every token its own slot.</summary>
    public static MixingInput FromDense(Tensor distributions, Tensor present, Tensor? goldLogProb = null, Tensor? sequence = null) =>
        new(Support.Full(distributions.shape[1], (int)distributions.shape[2], distributions.device), distributions,
            zeros(distributions.shape[0], distributions.shape[1], device: distributions.device), present, goldLogProb, sequence);

    /// <summary>The teachers' distributions as dense (K, N, V).</summary>
    public Tensor Dense() => Support.Dense(Values, Rest);
}

/// <summary>The blended target on the teachers' support and each teacher's weight at each position (K, N), zero where absent.</summary>
public sealed record MixingResult(SupportDistribution Target, Tensor Weights);

/// <summary>Blends the teachers present at each aligned position into one target distribution.</summary>
public abstract class MixingPolicy
{
    public abstract string Name { get; }

    public MixingResult Mix(MixingInput input)
    {
        using var scope = NewDisposeScope();
        var present = input.Present.to(float32);                                   // (K, N)
        var raw = RawWeights(input) * present;                                     // (K, N)
        var weights = raw / raw.sum(0, keepdim: true).clamp_min(1e-30);           // (K, N), columns sum to 1
        var (values, rest) = Combine(input, weights);                               // (N, M), (N)
        return new MixingResult(new SupportDistribution(input.Support, values.MoveToOuterDisposeScope(), rest.MoveToOuterDisposeScope()),
            weights.MoveToOuterDisposeScope());
    }

    /// <summary>Unnormalised weights (K, N); absent teachers are masked out afterwards.</summary>
    protected abstract Tensor RawWeights(MixingInput input);

    /// <summary>Linear pooling by default: Σ_k w_k q_k, slot by slot and for the tokens outside the support alike.</summary>
    protected virtual (Tensor Values, Tensor Others) Combine(MixingInput input, Tensor weights) =>
        ((input.Values * weights.unsqueeze(-1)).sum(dim: 0), (input.Rest * weights).sum(dim: 0));   // (N, M), (N)

    /// <summary>Per-position entropy (K, N) of each teacher's distribution, in nats: the support's slots plus Outside tokens at the rest value.</summary>
    protected static Tensor Entropy(MixingInput input)
    {
        static Tensor PLogP(Tensor p) => p * p.clamp_min(1e-30).log();
        var valid = input.Support.Valid.to(input.Values.dtype);
        return -((PLogP(input.Values) * valid).sum(-1) + input.Support.Outside * PLogP(input.Rest));
    }

    public static MixingPolicy Create(MixingSettings s, IReadOnlyList<double> teacherWeights) => s.Policy switch
    {
        MixingPolicyKind.Weighted => new WeightedMixing(teacherWeights),
        MixingPolicyKind.Uniform => new WeightedMixing(teacherWeights.Select(_ => 1.0).ToArray()),
        MixingPolicyKind.Confidence => new ConfidenceMixing(s.Temperature),
        MixingPolicyKind.AvgCe => new CrossEntropyMixing(minimum: false, s.Temperature, s.PerSequence),
        MixingPolicyKind.MinCe => new CrossEntropyMixing(minimum: true, s.Temperature, s.PerSequence),
        MixingPolicyKind.Product => new ProductMixing(teacherWeights),
        _ => throw new ArgumentOutOfRangeException(nameof(s), s.Policy, "unknown mixing policy"),
    };
}

/// <summary>Fixed weights per teacher, renormalised over the teachers present at each position.</summary>
public sealed class WeightedMixing(IReadOnlyList<double> weights) : MixingPolicy
{
    public override string Name => "weighted";

    protected override Tensor RawWeights(MixingInput input) =>
        tensor(weights.Select(w => (float)w).ToArray(), device: input.Present.device).unsqueeze(1).expand(input.Present.shape);
}

/// <summary>Confidence: w_k ∝ exp(-H(q_k) / τ), so sharper teachers count for more at that position.</summary>
public sealed class ConfidenceMixing(double temperature) : MixingPolicy
{
    public override string Name => "confidence";

    protected override Tensor RawWeights(MixingInput input)
    {
        var h = Entropy(input);                                                    // (K, N)
        // Subtracting the column minimum keeps exp() in range without changing the normalised weights.
        var shifted = h - h.masked_fill(input.Present.logical_not(), Scalars.PositiveInfinity).min(0, keepdim: true).values;
        return (-shifted / temperature).exp().nan_to_num(0, 0, 0);
    }
}

/// <summary>
/// FuseLLM's cross-entropy policies: each teacher's cross-entropy on the gold next token, per token
/// or averaged over each sequence. min_ce takes the lowest-CE teacher; avg_ce weights by
/// exp(-CE / τ).
/// </summary>
public sealed class CrossEntropyMixing(bool minimum, double temperature, bool perSequence) : MixingPolicy
{
    public override string Name => minimum ? "min_ce" : "avg_ce";

    protected override Tensor RawWeights(MixingInput input)
    {
        if (input.GoldLogProb is null) throw new InvalidOperationException($"{Name} needs the teachers' log-probabilities of the gold tokens");
        var present = input.Present.to(float32);
        var ce = -input.GoldLogProb * present;                                     // (K, N)
        if (perSequence)
        {
            if (input.Sequence is null) throw new InvalidOperationException($"{Name} per sequence needs each position's sequence index");
            var sequences = input.Sequence.max().item<long>() + 1;
            var index = input.Sequence.unsqueeze(0).expand(ce.shape);
            var sums = zeros(ce.shape[0], sequences, device: ce.device).scatter_add(1, index, ce);
            var counts = zeros(ce.shape[0], sequences, device: ce.device).scatter_add(1, index, present).clamp_min(1);
            ce = (sums / counts).gather(1, index);                                 // (K, N): each position gets its sequence's mean
        }
        var masked = ce.masked_fill(input.Present.logical_not(), Scalars.PositiveInfinity);
        if (minimum)
        {
            var best = masked.argmin(0, keepdim: true);                            // (1, N), ties to the lowest index
            return zeros_like(ce).scatter(0, best, ones_like(best, dtype: ce.dtype));
        }
        var shifted = masked - masked.min(0, keepdim: true).values;
        return (-shifted / temperature).exp().nan_to_num(0, 0, 0);
    }
}

/// <summary>
/// Log-linear pooling: target ∝ Π_k q_k^{w_k}, the normalised weighted geometric mean. Zero
/// probabilities keep a floor of 1e-10, so the union of supports survives. Normalised over the
/// support's slots plus Outside copies of the rest value.
/// </summary>
public sealed class ProductMixing(IReadOnlyList<double> weights) : MixingPolicy
{
    public override string Name => "product";

    protected override Tensor RawWeights(MixingInput input) =>
        tensor(weights.Select(w => (float)w).ToArray(), device: input.Present.device).unsqueeze(1).expand(input.Present.shape);

    protected override (Tensor Values, Tensor Others) Combine(MixingInput input, Tensor weights)
    {
        var logValues = (input.Values.clamp_min(1e-10).log() * weights.unsqueeze(-1)).sum(dim: 0);        // (N, M)
        var logRest = (input.Rest.clamp_min(1e-10).log() * weights).sum(dim: 0);                            // (N)
        var slots = logValues.masked_fill(input.Support.Valid.logical_not(), Scalars.NegativeInfinity);
        var outside = logRest + input.Support.Outside.log();                                                  // -inf when nothing is outside
        var logZ = cat([slots, outside.unsqueeze(1)], 1).logsumexp(1);                                        // (N)
        return ((slots - logZ.unsqueeze(1)).exp(), (logRest - logZ).exp());
    }
}
