using static TorchSharp.torch;

namespace MultiTeacher.Merging;

/// <summary>How a task vector is thinned before it is combined.</summary>
public enum Sparsification { None, Magnitude, Random }

/// <summary>Keeping a fraction <c>density</c> of a task vector δ's entries: TIES' trim by magnitude (in <see cref="TaskVectorMerge"/>), DARE's random drops.</summary>
public static class Sparsify
{
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
