using static TorchSharp.torch;

namespace MultiTeacher.Mixing;

/// <summary>
/// Teacher distributions at N aligned positions, over the student vocabulary.
/// Distributions (K, N, V); Present (K, N) bool; GoldLogProb (K, N) = log q_k(gold next token),
/// needed by the cross-entropy policies; Sequence (N) long = which sequence each position is in.
/// </summary>
public sealed record MixingInput(Tensor Distributions, Tensor Present, Tensor? GoldLogProb = null, Tensor? Sequence = null);

/// <summary>The blended target (N, V) and each teacher's weight at each position (K, N), zero where absent.</summary>
public sealed record MixingResult(Tensor Target, Tensor Weights);

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
        var target = Combine(input.Distributions, weights);                         // (N, V)
        return new MixingResult(target.MoveToOuterDisposeScope(), weights.MoveToOuterDisposeScope());
    }

    /// <summary>Unnormalised weights (K, N); absent teachers are masked out afterwards.</summary>
    protected abstract Tensor RawWeights(MixingInput input);

    /// <summary>Linear pooling by default: Σ_k w_k q_k.</summary>
    protected virtual Tensor Combine(Tensor distributions, Tensor weights) =>
        (distributions * weights.unsqueeze(-1)).sum(dim: 0);                             // (N, V)

    /// <summary>Per-position entropy (K, N) of each teacher's distribution, in nats.</summary>
    protected static Tensor Entropy(Tensor distributions) =>
        -(distributions * distributions.clamp_min(1e-30).log()).sum(-1);

    public static MixingPolicy Create(MixingSettings s, IReadOnlyList<double> teacherWeights) => s.Policy switch
    {
        "weighted" => new WeightedMixing(teacherWeights),
        "uniform" => new WeightedMixing(teacherWeights.Select(_ => 1.0).ToArray()),
        "confidence" => new ConfidenceMixing(s.Temperature),
        "avg_ce" => new CrossEntropyMixing(minimum: false, s.Temperature, s.PerSequence),
        "min_ce" => new CrossEntropyMixing(minimum: true, s.Temperature, s.PerSequence),
        "product" => new ProductMixing(teacherWeights),
        _ => throw new ArgumentException($"unknown mixing policy '{s.Policy}'"),
    };
}

/// <summary>Mixing knobs as a recipe gives them.</summary>
public sealed record MixingSettings(string Policy, double Temperature = 1.0, bool PerSequence = true);

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
        var h = Entropy(input.Distributions);                                      // (K, N)
        // Subtracting the column minimum keeps exp() in range without changing the normalised weights.
        var shifted = h - h.masked_fill(input.Present.logical_not(), double.PositiveInfinity).min(0, keepdim: true).values;
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
        var masked = ce.masked_fill(input.Present.logical_not(), double.PositiveInfinity);
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
/// Log-linear pooling: target ∝ Π_k q_k^{w_k}, the normalised weighted geometric mean. Tokens
/// outside a teacher's support keep a floor of 1e-10 there, so the union of supports survives.
/// </summary>
public sealed class ProductMixing(IReadOnlyList<double> weights) : MixingPolicy
{
    public override string Name => "product";

    protected override Tensor RawWeights(MixingInput input) =>
        tensor(weights.Select(w => (float)w).ToArray(), device: input.Present.device).unsqueeze(1).expand(input.Present.shape);

    protected override Tensor Combine(Tensor distributions, Tensor weights)
    {
        var logPooled = (distributions.clamp_min(1e-10).log() * weights.unsqueeze(-1)).sum(dim: 0);   // (N, V)
        return softmax(logPooled, -1);
    }
}
