using static TorchSharp.torch;

namespace MultiTeacher.Training;

/// <summary>Loss knobs as a recipe gives them.</summary>
public sealed record LossSettings(string Kind = "forward_kl", double Temperature = 1.0, double Beta = 0.5, double HardLabelWeight = 0.5);

/// <summary>
/// Divergences between a target distribution p (the blended teachers) and the student q, per
/// position: forward KL(p‖q), reverse KL(q‖p), generalised JSD_β = β KL(p‖m) + (1-β) KL(q‖m) with
/// m = βp + (1-β)q, and total variation ½Σ|p-q|. At temperature T both sides are softened (the
/// target as p^{1/T} renormalised, i.e. its logits divided by T) and the divergence is scaled by T².
/// </summary>
public static class DistillationLoss
{
    public static readonly string[] Kinds = ["forward_kl", "reverse_kl", "jsd", "tv"];
    private const double Floor = 1e-10;

    /// <summary>Mean divergence over positions; studentLogits (N, V), target (N, V).</summary>
    public static Tensor Divergence(Tensor studentLogits, Tensor target, LossSettings s)
    {
        using var scope = NewDisposeScope();
        var t = s.Temperature;
        var logQ = nn.functional.log_softmax(studentLogits / t, -1);                          // (N, V)
        var p = t == 1 ? target : Temper(target, t);                                // (N, V)
        var logP = p.clamp_min(Floor).log();
        var q = logQ.exp();
        var perPosition = s.Kind switch
        {
            "forward_kl" => (p * (logP - logQ)).sum(-1),
            "reverse_kl" => (q * (logQ - logP)).sum(-1),
            "jsd" => Jsd(p, logP, q, logQ, s.Beta),
            "tv" => 0.5 * (p - q).abs().sum(-1),
            _ => throw new ArgumentException($"unknown loss kind '{s.Kind}' (expected {string.Join(", ", Kinds)})"),
        };
        return (perPosition.mean() * (t * t)).MoveToOuterDisposeScope();
    }

    /// <summary>α·CE(gold) + (1-α)·divergence: the hard label keeps every position, the teachers the aligned ones.</summary>
    public static Tensor Combine(Tensor hardLabelCe, Tensor? divergence, double alpha) =>
        divergence is null ? hardLabelCe : alpha * hardLabelCe + (1 - alpha) * divergence;

    private static Tensor Jsd(Tensor p, Tensor logP, Tensor q, Tensor logQ, double beta)
    {
        var m = beta * p + (1 - beta) * q;
        var logM = m.clamp_min(Floor).log();
        return beta * (p * (logP - logM)).sum(-1) + (1 - beta) * (q * (logQ - logM)).sum(-1);
    }

    private static Tensor Temper(Tensor p, double t)
    {
        var logits = p.clamp_min(Floor).log() / t;
        return softmax(logits, -1) * (p.sum(-1, keepdim: true) > 0);
    }
}
