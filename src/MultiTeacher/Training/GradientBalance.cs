using static TorchSharp.torch;

namespace MultiTeacher.Training;

/// <summary>
/// Gradient-magnitude balancing of loss terms (the "approx_gradmag_preserve_mag" aggregation of the
/// ALM paper's reference code): each term's gradient norm g_i is measured on a small set of
/// parameters (tokenkit uses the last decoder layer), and the terms are summed with weights
/// w_i = (1/g_i) / Σ_j (1/g_j). Every term then moves those parameters by the same amount,
/// whatever the scale of its loss, and the weights sum to 1, so the combined gradient keeps the
/// magnitude of a harmonic mean of the terms'. Weights carry no gradient. Unlike tokenkit, the
/// combined loss is then differentiated as a whole (tokenkit also rebuilds the last layer's own
/// gradient from the per-term ones); a term with no gradient there gets weight 0.
/// </summary>
public static class GradientBalance
{
    /// <summary>The weights, from one autograd pass per term over <paramref name="parameters"/> (the graph is kept).</summary>
    public static double[] Weights(IReadOnlyList<Tensor> losses, IReadOnlyList<Tensor> parameters)
    {
        var inverse = new double[losses.Count];
        for (var i = 0; i < losses.Count; i++)
        {
            if (!losses[i].requires_grad) continue;
            using var scope = NewDisposeScope();
            var grads = autograd.grad([losses[i]], [.. parameters], retain_graph: true, allow_unused: true);
            var squared = grads.Where(g => g is not null && !g.IsInvalid).Sum(g => (g * g).sum().to(float64).item<double>());
            inverse[i] = squared > 0 ? 1 / Math.Sqrt(squared) : 0;
        }
        var total = inverse.Sum();
        return inverse.Select(v => total > 0 ? v / total : 1.0 / losses.Count).ToArray();
    }

    /// <summary>Σ w_i · loss_i with the <see cref="Weights"/>.</summary>
    public static Tensor Combine(IReadOnlyList<Tensor> losses, IReadOnlyList<Tensor> parameters, out double[] weights)
    {
        weights = Weights(losses, parameters);
        var total = losses[0] * weights[0];
        for (var i = 1; i < losses.Count; i++) total = total + losses[i] * weights[i];
        return total;
    }
}
