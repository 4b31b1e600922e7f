namespace MultiTeacher.Mixing;

/// <summary>
/// What a per-teacher policy knows of one teacher on one sequence, in units every vocabulary shares:
/// Bytes of the text it was scored on, its bits per byte there, and its chunk confidence (the
/// byte-weighted mean probability of its chunks, in [0, 1]). Bytes = 0: it scored none of the sequence.
/// </summary>
public readonly record struct SequenceScore(long Bytes, double BitsPerByte, double Confidence)
{
    public bool Scored => Bytes > 0;
}

/// <summary>
/// Per-sequence weights of per-teacher distillation terms (loss.kind alm, uld), from the mixing
/// settings: weighted (recipe weights), uniform, avg_ce (w ∝ exp(−bpb/τ)), min_ce (the teacher with
/// the lowest bits per byte), confidence (w ∝ confidence^(1/τ)). A teacher is absent from a sequence
/// it scored none of, or where its bits per byte exceed mixing.gate_bits_per_byte; the weights of the
/// teachers present sum to 1, and a sequence with none present gets no distillation (all 0).
/// </summary>
public static class TermWeights
{
    /// <summary>Whether the policy reads each teacher's likelihood of the text (and so needs <see cref="SequenceScore"/>s).</summary>
    public static bool ReadsLikelihood(MixingSettings s) =>
        s.Policy is MixingPolicyKind.AvgCe or MixingPolicyKind.MinCe or MixingPolicyKind.Confidence || s.Gated;

    /// <summary>
    /// Weights [k][s] for K teachers on S sequences. <paramref name="scores"/>[k][s]: teacher k on
    /// sequence s; null when the terms carry no likelihood (uld), where only weighted and uniform apply.
    /// <paramref name="fixedWeights"/>: the recipe's teacher weights (any scale).
    /// </summary>
    public static double[][] Compute(MixingSettings s, IReadOnlyList<double> fixedWeights, int sequences, SequenceScore[][]? scores)
    {
        if (s.Policy == MixingPolicyKind.Product) throw new ArgumentException("product pools distributions; per-teacher terms cannot be pooled log-linearly", nameof(s));
        if (scores is null && ReadsLikelihood(s)) throw new ArgumentException($"policy {Settings.SettingNames.Of(s.Policy)} and gating need each teacher's bits per byte on the text", nameof(scores));
        var k = fixedWeights.Count;
        var weights = Enumerable.Range(0, k).Select(_ => new double[sequences]).ToArray();
        var raw = new double[k];
        var present = new bool[k];
        for (var q = 0; q < sequences; q++)
        {
            for (var t = 0; t < k; t++)
                present[t] = scores is null || (scores[t][q].Scored && !(s.Gated && scores[t][q].BitsPerByte > s.GateBitsPerByte));
            Raw(s, fixedWeights, scores, q, present, raw);
            var total = 0.0;
            for (var t = 0; t < k; t++) total += present[t] ? raw[t] : 0;
            for (var t = 0; t < k; t++) weights[t][q] = present[t] && total > 0 ? raw[t] / total : 0;
        }
        return weights;
    }

    private static void Raw(MixingSettings s, IReadOnlyList<double> fixedWeights, SequenceScore[][]? scores, int q, bool[] present, double[] raw)
    {
        var k = raw.Length;
        switch (s.Policy)
        {
            case MixingPolicyKind.Weighted:
                // All weights 0 reads as equal weights, as the recipe's fixed weights always have.
                var sum = fixedWeights.Sum();
                for (var t = 0; t < k; t++) raw[t] = sum > 0 ? fixedWeights[t] : 1;
                return;
            case MixingPolicyKind.Uniform:
                Array.Fill(raw, 1.0);
                return;
            case MixingPolicyKind.MinCe:
                var best = -1;
                for (var t = 0; t < k; t++)
                    if (present[t] && (best < 0 || scores![t][q].BitsPerByte < scores[best][q].BitsPerByte)) best = t;   // ties to the lowest index
                for (var t = 0; t < k; t++) raw[t] = t == best ? 1 : 0;
                return;
            case MixingPolicyKind.AvgCe:
                // exp(−(x − min x)/τ): the shift keeps exp() in range and cancels in the normalisation.
                Exponential(k, present, t => -scores![t][q].BitsPerByte, s.Temperature, raw);
                return;
            case MixingPolicyKind.Confidence:
                Exponential(k, present, t => Math.Log(scores![t][q].Confidence), s.Temperature, raw);
                return;
            default:
                throw new ArgumentOutOfRangeException(nameof(s), s.Policy, "no per-teacher weights for this policy");
        }
    }

    /// <summary>raw_t = exp((x_t − max x)/τ) over the present teachers.</summary>
    private static void Exponential(int k, bool[] present, Func<int, double> x, double temperature, double[] raw)
    {
        var max = double.NegativeInfinity;
        for (var t = 0; t < k; t++) if (present[t]) max = Math.Max(max, x(t));
        for (var t = 0; t < k; t++) raw[t] = present[t] && double.IsFinite(max) ? Math.Exp((x(t) - max) / temperature) : 0;
    }
}
