using static TorchSharp.torch;

namespace MultiTeacher.Merging;

/// <summary>How a task vector is thinned before it is combined.</summary>
public enum Sparsification { None, Magnitude, Random }

/// <summary>The two ways of keeping a fraction <c>density</c> of a task vector δ's entries.</summary>
public static class Sparsify
{
    /// <summary>
    /// TIES' trim (Yadav et al. 2023, arXiv:2306.01708): keeps the ⌊density·n⌋ entries of largest
    /// magnitude and zeroes the rest (entries tied with the smallest kept magnitude are all kept).
    /// The threshold comes from a selection, not a sort or top-k, which would hold n indices. A block
    /// of rows of a larger tensor passes that tensor's threshold (<see cref="KthLargest"/>).
    /// </summary>
    public static Tensor Magnitude(Tensor delta, double density, float? threshold = null)
    {
        if (density >= 1) return delta.alias();
        var n = delta.numel();
        var k = KeptEntries(density, n);
        if (threshold is null && k <= 0 || threshold is float.PositiveInfinity) return zeros_like(delta);
        using var scope = NewDisposeScope();
        var magnitude = delta.abs();
        var kept = threshold is { } t ? magnitude.ge_(t) : magnitude.ge_(magnitude.reshape(-1).kthvalue(n - k + 1, 0, false).values);
        return delta.mul(kept).MoveToOuterDisposeScope();
    }

    /// <summary>How many of n entries TIES' trim keeps at this density.</summary>
    public static long KeptEntries(double density, long n) => (long)(density * n);

    /// <summary>
    /// DARE's drop-and-rescale (Yu et al. 2024, "Language Models are Super Mario", arXiv:2311.03099):
    /// each entry survives with probability p = density and survivors are divided by p, so the
    /// expectation of the result is δ itself.
    /// </summary>
    public static Tensor Random(Tensor delta, double density, bool rescale, Generator generator)
    {
        if (density >= 1) return delta.alias();
        using var scope = NewDisposeScope();
        var keep = rand(delta.shape, generator: generator, dtype: ScalarType.Float32) < density;
        var kept = delta * keep;
        if (rescale) kept.div_(density);
        return kept.MoveToOuterDisposeScope();
    }
}
