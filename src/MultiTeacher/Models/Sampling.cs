using MultiTeacher.Runtime;
using static TorchSharp.torch;

namespace MultiTeacher.Models;

/// <summary>How the next token is chosen: greedy at temperature 0, else sampled after top-k and top-p filtering, as transformers does.</summary>
public sealed record Sampling(double Temperature = 0, int TopK = 0, double TopP = 1.0, long Seed = 0)
{
    public static readonly Sampling Greedy = new();

    /// <summary>
    /// Logits (V) with every token outside the top <paramref name="topK"/> (0: no limit; ties with the
    /// k-th kept) and outside the nucleus set to -inf. The nucleus is the smallest set of most likely
    /// tokens whose probability reaches <paramref name="topP"/>: a token stays while the mass strictly
    /// before it in descending order is below top_p, so the most likely token always stays.
    /// </summary>
    public static Tensor Filter(Tensor logits, int topK, double topP)
    {
        if (topK < 0) throw new ArgumentOutOfRangeException(nameof(topK), topK, "top-k is at least 0");
        if (topP is <= 0 or > 1) throw new ArgumentOutOfRangeException(nameof(topP), topP, "top-p is in (0, 1]");
        using var scope = NewDisposeScope();
        var filtered = logits;
        if (topK > 0 && topK < logits.shape[^1])
        {
            var kth = logits.topk(topK).values[-1];
            filtered = filtered.masked_fill(filtered < kth, Scalars.NegativeInfinity);
        }
        if (topP < 1)
        {
            var (sorted, order) = filtered.sort(descending: true);
            var probs = nn.functional.softmax(sorted.to(float64), 0);
            var before = probs.cumsum(0) - probs;                                         // mass of the tokens ranked above each
            var drop = (before >= topP).index_put_(tensor(false), tensor(0L));
            filtered = filtered.masked_fill(zeros_like(drop).scatter(0, order, drop), Scalars.NegativeInfinity);
        }
        return filtered.MoveToOuterDisposeScope();
    }
}
