using MultiTeacher.Settings;

namespace MultiTeacher.Losses;

/// <summary>The objective that carries the teachers to the student.</summary>
public enum LossKind
{
    /// <summary>KL(p‖q): mass-covering.</summary>
    ForwardKl,
    /// <summary>KL(q‖p): mode-seeking.</summary>
    ReverseKl,
    /// <summary>Generalised Jensen-Shannon with weight β.</summary>
    Jsd,
    /// <summary>Total variation ½Σ|p-q|.</summary>
    Tv,
    /// <summary>
    /// Approximate likelihood matching (Minixhofer et al. 2025): each teacher its own term, the
    /// binary KL of chunk likelihoods over chunks both tokenizations close; no vocabulary projection.
    /// </summary>
    Alm,
    /// <summary>Universal logit distillation (Boizard et al. 2024): each teacher its own term, sorted-probability L1 at aligned positions.</summary>
    Uld,
}

/// <summary>Loss knobs: the objective, its temperature, JSD's β, likelihood matching's τ and γ, and the hard label's share.</summary>
public sealed record LossSettings
{
    [Setting("kind", "objective: a divergence from the blended teachers, or alm/uld with one term per teacher")]
    public LossKind Kind { get; init; } = LossKind.ForwardKl;

    [Setting("temperature", "T: both sides softened, the divergence scaled by T²", Min = 0, ExclusiveMin = true, Max = 1000)]
    public double Temperature { get; init; } = 1.0;

    [Setting("beta", "jsd: weight β of the teachers' side", Min = 0, Max = 1)]
    public double Beta { get; init; } = 0.5;

    [Setting("hard_label_weight", "α in α·CE(gold) + (1-α)·divergence; 1 without teachers", Min = 0, Max = 1)]
    public double HardLabelWeight { get; init; } = 0.5;

    [Setting("alm_temperature", "alm: τ, chunk probabilities compared as p^(1/τ); the paper's default 100, it reports τ=5 better",
        Min = 0, ExclusiveMin = true, Max = 1e6)]
    public double AlmTemperature { get; init; } = 100;

    [Setting("alm_gamma", "alm: γ, a chunk merges with the next while the teacher's word-boundary probability after it is below γ (0: never)", Min = 0, Max = 1)]
    public double AlmGamma { get; init; } = 0.1;

    [Setting("alm_debias", "alm: multiply chunk likelihoods by the probability that the next token starts a word")]
    public bool AlmDebias { get; init; } = true;

    [Setting("balance", "alm/uld: weigh CE and distillation by their gradient norms on the last layer instead of α")]
    public bool Balance { get; init; }

    /// <summary>Whether each teacher contributes its own term (no blended distribution).</summary>
    public bool PerTeacher => Kind is LossKind.Alm or LossKind.Uld;
}
