using MultiTeacher.Losses;
using MultiTeacher.Mixing;
using MultiTeacher.Models;
using static TorchSharp.torch;

namespace MultiTeacher.Training;

/// <summary>What a chunked loss step measured: the loss backpropagated, and its hard-label and distillation parts.</summary>
public sealed record ChunkedLossResult(double Loss, double Ce, double? Kd);

/// <summary>
/// α·CE(gold) + (1−α)·divergence computed and backpropagated a chunk of positions at a time, so a
/// large vocabulary's (B·T, V) logits never exist at once. Both terms are means over positions
/// whose counts are known before the first chunk, so the loss is the sum of each chunk's share.
/// The body runs once; its output is cut from the graph into a leaf, each chunk's head, losses and
/// backward run on a slice of that leaf (accumulating the head's gradients and the leaf's), and the
/// body is backpropagated once with the leaf's gradient. Nothing is recomputed.
/// </summary>
public static class ChunkedLoss
{
    /// <param name="hidden">The student body's output (B, T, C), in the graph.</param>
    /// <param name="targets">Gold ids (B·T) on the student's device, −100 where none.</param>
    /// <param name="positions">Flat positions b·T + t, ascending, where <paramref name="target"/> has a row each; null without teachers.</param>
    /// <param name="scale">Multiplies the gradients (1 / gradient-accumulation steps).</param>
    public static ChunkedLossResult Backward(CausalLM student, Tensor hidden, Tensor targets, long[]? positions, SupportDistribution? target,
        LossSettings loss, int chunkTokens, double scale)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkTokens, 1);
        using var scope = NewDisposeScope();
        var flat = hidden.view(-1, hidden.shape[^1]);                                      // (P, C)
        var leaf = flat.detach().requires_grad_(true);
        var gold = targets.ne(-100).sum().item<long>();
        var aligned = target is null ? 0 : positions!.Length;
        var alpha = aligned == 0 ? 1.0 : loss.HardLabelWeight;
        double ce = 0, kd = 0;
        var row = 0;
        for (long start = 0; start < flat.shape[0]; start += chunkTokens)
        {
            using var chunkScope = NewDisposeScope();
            var n = Math.Min(chunkTokens, flat.shape[0] - start);
            var logits = student.Head(leaf.narrow(0, start, n)).to(float32);              // (n, V)
            var ceShare = nn.functional.cross_entropy(logits, targets.narrow(0, start, n), ignore_index: -100, reduction: nn.Reduction.Sum) / gold;
            var share = alpha * ceShare;
            var first = row;
            while (row < aligned && positions![row] < start + n) row++;
            Tensor? kdShare = null;
            if (row > first)
            {
                var local = tensor(positions![first..row].Select(p => p - start).ToArray(), device: logits.device);
                kdShare = DistillationLoss.Sum(logits.index_select(0, local), target!.Rows(first, row - first), loss) / aligned;
                share = share + (1 - alpha) * kdShare;
            }
            (share * scale).backward();
            ce += ceShare.item<float>();
            kd += kdShare?.item<float>() ?? 0;
        }
        autograd.backward([flat], [leaf.grad!]);
        return new ChunkedLossResult(alpha * ce + (1 - alpha) * kd, ce, aligned == 0 ? null : kd);
    }
}
