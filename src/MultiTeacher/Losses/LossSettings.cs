using MultiTeacher.Settings;

namespace MultiTeacher.Losses;

/// <summary>The divergence between the blended teachers and the student.</summary>
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
}

/// <summary>Loss knobs: the divergence, its temperature, JSD's β and the hard label's share.</summary>
public sealed record LossSettings
{
    [Setting("kind", "divergence between the blended teachers and the student")]
    public LossKind Kind { get; init; } = LossKind.ForwardKl;

    [Setting("temperature", "T: both sides softened, the divergence scaled by T²", Min = 0, ExclusiveMin = true, Max = 1000)]
    public double Temperature { get; init; } = 1.0;

    [Setting("beta", "jsd: weight β of the teachers' side", Min = 0, Max = 1)]
    public double Beta { get; init; } = 0.5;

    [Setting("hard_label_weight", "α in α·CE(gold) + (1-α)·divergence; 1 without teachers", Min = 0, Max = 1)]
    public double HardLabelWeight { get; init; } = 0.5;
}
