using MultiTeacher.Settings;

namespace MultiTeacher.Mixing;

/// <summary>How the teachers present at a position are weighted.</summary>
public enum MixingPolicyKind
{
    /// <summary>Fixed weights per teacher.</summary>
    Weighted,
    /// <summary>Equal weights.</summary>
    Uniform,
    /// <summary>w ∝ exp(-entropy / τ).</summary>
    Confidence,
    /// <summary>w ∝ exp(-CE on the gold text / τ).</summary>
    AvgCe,
    /// <summary>The teacher with the lowest CE on the gold text.</summary>
    MinCe,
    /// <summary>Log-linear pooling with the teachers' weights.</summary>
    Product,
}

/// <summary>Over what the cross-entropy policies measure each teacher.</summary>
public enum MixingGranularity
{
    /// <summary>Each sequence's mean cross-entropy.</summary>
    Sequence,
    /// <summary>Each token's own cross-entropy.</summary>
    Token,
}

/// <summary>Mixing knobs: the policy, its temperature, its granularity and the per-teacher gate.</summary>
public sealed record MixingSettings
{
    [Setting("policy", "how teachers present at a position are weighted")]
    public MixingPolicyKind Policy { get; init; } = MixingPolicyKind.Confidence;

    [Setting("temperature", "τ of the confidence and avg_ce weights (avg_ce with alm: bits per byte)", Min = 0, ExclusiveMin = true, Max = 1000)]
    public double Temperature { get; init; } = 1.0;

    [Setting("granularity", "avg_ce/min_ce: cross-entropy per sequence or per token")]
    public MixingGranularity Granularity { get; init; } = MixingGranularity.Sequence;

    [Setting("gate_bits_per_byte", "alm: a teacher is switched off for a sequence where its bits per byte on the text are above this (0: never)", Min = 0, Max = 100)]
    public double GateBitsPerByte { get; init; }

    public bool PerSequence => Granularity == MixingGranularity.Sequence;

    /// <summary>Whether teachers are switched off by their bits per byte (per-teacher terms only).</summary>
    public bool Gated => GateBitsPerByte > 0;
}
