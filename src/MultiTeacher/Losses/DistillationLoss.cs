using MultiTeacher.Runtime;
using MultiTeacher.Mixing;
using static TorchSharp.torch;

namespace MultiTeacher.Losses;

/// <summary>
/// Divergences between a target distribution p (the blended teachers) and the student q, per
/// position: forward KL(p‖q), reverse KL(q‖p), generalised JSD_β = β KL(p‖m) + (1-β) KL(q‖m) with
/// m = βp + (1-β)q, and total variation ½Σ|p-q|. At temperature T both sides are softened (the
/// target as p^{1/T} renormalised, i.e. its logits divided by T) and the divergence is scaled by T².
/// </summary>
public static class DistillationLoss
{
    private const double Floor = 1e-10;

    /// <summary>Mean divergence over positions; studentLogits (N, V), target (N, V) dense.</summary>
    public static Tensor Divergence(Tensor studentLogits, Tensor target, LossSettings s) =>
        Divergence(studentLogits, SupportDistribution.FromDense(target), s);

    /// <summary>
    /// Mean divergence over positions; studentLogits (N, V), target on a support (N, M) plus its
    /// rest value. Forward and reverse KL are computed from the support's slots and one row sum of
    /// log q, so their cost does not grow with the number of teachers; JSD and TV materialise the
    /// target once.
    /// </summary>
    public static Tensor Divergence(Tensor studentLogits, SupportDistribution target, LossSettings s)
    {
        using var scope = NewDisposeScope();
        return (PerPosition(studentLogits, target, s).mean() * (s.Temperature * s.Temperature)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The divergence summed over positions (scaled by T²): what a chunk of positions adds to a
    /// batch's mean when the batch's position count divides the whole.
    /// </summary>
    public static Tensor Sum(Tensor studentLogits, SupportDistribution target, LossSettings s)
    {
        using var scope = NewDisposeScope();
        return (PerPosition(studentLogits, target, s).sum() * (s.Temperature * s.Temperature)).MoveToOuterDisposeScope();
    }

    private static Tensor PerPosition(Tensor studentLogits, SupportDistribution target, LossSettings s)
    {
        var t = s.Temperature;
        var logQ = nn.functional.log_softmax(studentLogits / t, -1);                          // (N, V)
        var p = t == 1 ? target : Temper(target, t);
        var support = p.Support;
        var valid = support.Valid.to(logQ.dtype);                                             // (N, M)
        var (pu, pr) = (p.Values.to(logQ.dtype), p.Rest.to(logQ.dtype));                     // (N, M), (N)
        var outside = support.Outside.to(logQ.dtype);                                        // (N)
        var logQu = logQ.gather(1, support.Ids);                                              // (N, M)
        if (p.Lumped) return Coarse(logQ, logQu, support, pu, pr * outside, s);
        var perPosition = s.Kind switch
        {
            LossKind.ForwardKl => (valid * pu * (pu.clamp_min(Floor).log() - logQu)).sum(-1)
                + pr * (outside * pr.clamp_min(Floor).log() - (logQ.sum(-1) - (valid * logQu).sum(-1))),
            LossKind.ReverseKl => ReverseKl(logQ, logQu, valid, pu, pr, outside),
            LossKind.Jsd or LossKind.Tv => Dense(logQ, p.Dense().to(logQ.dtype), s),
            _ => throw new ArgumentOutOfRangeException(nameof(s), s.Kind, "unknown loss kind"),
        };
        return perPosition;                                                                   // (N)
    }

    // Σ q log q − Σ_U q log p − (student mass outside U) · log p_rest.
    private static Tensor ReverseKl(Tensor logQ, Tensor logQu, Tensor valid, Tensor pu, Tensor pr, Tensor outside)
    {
        var qu = logQu.exp() * valid;
        var massOutside = (1 - qu.sum(-1)).clamp_min(0) * outside.gt(0);
        return (logQ.exp() * logQ).sum(-1) - (qu * pu.clamp_min(Floor).log()).sum(-1) - massOutside * pr.clamp_min(Floor).log();
    }

    private static Tensor Dense(Tensor logQ, Tensor p, LossSettings s) => Of(p, logQ.exp(), logQ, s);

    /// <summary>p and q over the same outcomes (..., K): the divergence the settings name, per row.</summary>
    private static Tensor Of(Tensor p, Tensor q, Tensor logQ, LossSettings s) => s.Kind switch
    {
        LossKind.ForwardKl => (p * (p.clamp_min(Floor).log() - logQ)).sum(-1),
        LossKind.ReverseKl => (q * (logQ - p.clamp_min(Floor).log())).sum(-1),
        LossKind.Jsd => Jsd(p, p.clamp_min(Floor).log(), q, logQ, s.Beta),
        LossKind.Tv => 0.5 * (p - q).abs().sum(-1),
        _ => throw new ArgumentOutOfRangeException(nameof(s), s.Kind, "unknown loss kind"),
    };

    /// <summary>
    /// Both sides coarsened to the M + 1 outcomes {each support token, anything else}: the teacher's
    /// lumped mass against the student's total mass outside the support, taken by log-sum-exp so a
    /// support holding nearly all of q stays exact. Padding slots hold zero on both sides.
    /// </summary>
    private static Tensor Coarse(Tensor logQ, Tensor logQu, Support support, Tensor pu, Tensor lumped, LossSettings s)
    {
        var valid = support.Valid;
        var inSupport = zeros_like(logQ).scatter_add(1, support.Ids, valid.to(logQ.dtype)).gt(0);                // (N, V)
        var none = support.Outside.le(0);                                                                       // (N)
        var logOut = logQ.masked_fill(inSupport, Scalars.NegativeInfinity).logsumexp(-1).masked_fill(none, 0);  // (N)
        var p = cat([pu * valid.to(pu.dtype), lumped.masked_fill(none, 0).unsqueeze(1)], 1);                   // (N, M+1)
        var present = cat([valid, none.logical_not().unsqueeze(1)], 1);                                        // (N, M+1)
        var logQc = cat([logQu, logOut.unsqueeze(1)], 1).masked_fill(present.logical_not(), 0);
        return Of(p, logQc.exp() * present.to(logQc.dtype), logQc, s);
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

    /// <summary>p^{1/T} renormalised over the support's slots and its Outside tokens (lumped: their sum as one outcome); zeros stay zero, an empty row stays empty.</summary>
    private static SupportDistribution Temper(SupportDistribution p, double t)
    {
        var support = p.Support;
        var slots = p.Values.clamp_min(Floor).log().div(t).masked_fill(support.Valid.logical_not().logical_or(p.Values.le(0)), Scalars.NegativeInfinity);   // (N, M)
        var logOutside = support.Outside.to(p.Rest.dtype).log();                                                                                            // (N)
        // Spread, each outside token is an outcome of its own; lumped, their sum is one outcome.
        var restLog = p.Lumped ? (p.Rest.clamp_min(Floor).log() + logOutside).div(t) - logOutside : p.Rest.clamp_min(Floor).log().div(t);
        var rest = restLog.masked_fill(p.Rest.le(0).logical_or(support.Outside.le(0)), Scalars.NegativeInfinity);                                                                          // (N)
        var logZ = cat([slots, (rest + logOutside).unsqueeze(1)], 1).logsumexp(1);                                                                        // (N)
        var empty = logZ.isinf().unsqueeze(1);
        return p with
        {
            Values = (slots - logZ.unsqueeze(1)).exp().masked_fill(empty, 0),
            Rest = (rest - logZ).exp().masked_fill(empty.squeeze(1), 0),
        };
    }
}
