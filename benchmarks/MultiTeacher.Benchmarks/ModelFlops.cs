using System.Diagnostics;
using MultiTeacher.Models;
using static TorchSharp.torch;

namespace MultiTeacher.Benchmarks;

/// <summary>
/// The arithmetic a decoder forward does, and the FLOP/s of a plain linear layer of a model's MLP
/// shape in a given dtype: the baseline a model's own FLOP/s is a fraction of.
/// </summary>
public static class ModelFlops
{
    /// <summary>
    /// FLOPs of one forward over sequences of the given lengths: 2 × (matmul parameters incl. the head)
    /// per token, plus 4 × layers × (heads × head dim) × T per token of a sequence of T (full attention).
    /// </summary>
    public static double Forward(ModelConfig c, IEnumerable<int> lengths)
    {
        var parameters = CausalLM.CountParameters(c);
        var embedding = (long)c.VocabSize * c.HiddenSize;
        var norms = (2L * c.NumHiddenLayers + 1) * c.HiddenSize + (c.QkNorm ? 2L * c.NumHiddenLayers * c.HeadDim : 0);
        var matmulParameters = parameters - embedding - norms + (c.TieWordEmbeddings ? embedding : 0);   // lm_head counts, lookup does not
        var width = (double)c.NumAttentionHeads * c.HeadDim;
        return lengths.Sum(t => 2.0 * matmulParameters * t + 4.0 * c.NumHiddenLayers * width * t * (double)t);
    }

    /// <summary>
    /// GFLOP/s of x (m, k) through a linear layer of weight (n, k), the operation every projection of
    /// the model is, in <paramref name="dtype"/>; the best of <paramref name="repeats"/> after one warm-up.
    /// </summary>
    public static double LinearGflops(int m, int k, int n, ScalarType dtype, int repeats = 5)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = randn(m, k, dtype: dtype);
        var w = randn(n, k, dtype: dtype);
        var best = double.MaxValue;
        for (var i = 0; i <= repeats; i++)
        {
            using var inner = NewDisposeScope();
            var watch = Stopwatch.StartNew();
            nn.functional.linear(x, w);
            if (i > 0) best = Math.Min(best, watch.Elapsed.TotalSeconds);   // the first touches fresh memory
        }
        return 2.0 * m * k * n / best / 1e9;
    }
}
