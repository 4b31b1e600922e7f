namespace MultiTeacher.Evaluation;

/// <summary>A statistic on the observed data with its bootstrap percentile interval.</summary>
public sealed record BootstrapInterval(double Estimate, double Low, double High)
{
    /// <summary>Whether the interval lies wholly on one side of zero.</summary>
    public bool ExcludesZero => Low > 0 || High < 0;
}

/// <summary>
/// Paired bootstrap over two crossed factors, seeds and documents: every sample is a matrix of
/// cells [seed][document], all scored on the same seeds and documents. A resample draws seeds with
/// replacement and, independently, documents with replacement, and keeps every cell at a drawn
/// (seed, document) pair, so both the text and the training run count as noise. Paired samples (a
/// difference, or a ratio's numerator and denominator) share each resample's draws. Intervals are
/// percentiles of the resampled statistic (linear interpolation between order statistics).
/// </summary>
public static class PairedBootstrap
{
    public const int DefaultResamples = 2000, DefaultSeed = 15;

    /// <summary>The mean over all cells (e.g. paired differences a − b per seed and document).</summary>
    public static BootstrapInterval Mean(double[][] cells, int resamples = DefaultResamples, int seed = DefaultSeed, double level = 0.95) =>
        Statistic([cells], m => m[0], resamples, seed, level);

    /// <summary>mean(numerator) / mean(denominator): a ratio of means, not a mean of ratios, so cells near zero in the denominator do not explode it.</summary>
    public static BootstrapInterval Ratio(double[][] numerator, double[][] denominator, int resamples = DefaultResamples, int seed = DefaultSeed, double level = 0.95) =>
        Statistic([numerator, denominator], m => m[0] / m[1], resamples, seed, level);

    /// <summary><paramref name="statistic"/> of the samples' cell means, on the data and on each resample.</summary>
    public static BootstrapInterval Statistic(IReadOnlyList<double[][]> samples, Func<double[], double> statistic, int resamples = DefaultResamples,
        int seed = DefaultSeed, double level = 0.95)
    {
        if (samples.Count == 0) throw new ArgumentException("no samples", nameof(samples));
        var seeds = samples[0].Length;
        var documents = seeds == 0 ? 0 : samples[0][0].Length;
        if (seeds == 0 || documents == 0) throw new ArgumentException("a bootstrap needs at least one seed and one document", nameof(samples));
        if (samples.Any(s => s.Length != seeds || s.Any(row => row.Length != documents)))
            throw new ArgumentException($"paired samples need the same {seeds} seeds x {documents} documents", nameof(samples));
        if (resamples < 1 || level is <= 0 or >= 1) throw new ArgumentException("resamples must be positive and level inside (0, 1)");

        var all = Enumerable.Range(0, seeds).ToArray();
        var docs = Enumerable.Range(0, documents).ToArray();
        var estimate = statistic(samples.Select(s => CellMean(s, all, docs)).ToArray());
        var rng = new Random(seed);
        var values = new double[resamples];
        var drawnSeeds = new int[seeds];
        var drawnDocs = new int[documents];
        for (var r = 0; r < resamples; r++)
        {
            for (var i = 0; i < seeds; i++) drawnSeeds[i] = rng.Next(seeds);
            for (var i = 0; i < documents; i++) drawnDocs[i] = rng.Next(documents);
            values[r] = statistic(samples.Select(s => CellMean(s, drawnSeeds, drawnDocs)).ToArray());
        }
        Array.Sort(values);
        var tail = (1 - level) / 2;
        return new BootstrapInterval(estimate, Percentile(values, tail), Percentile(values, 1 - tail));
    }

    private static double CellMean(double[][] cells, int[] seeds, int[] documents)
    {
        double sum = 0;
        foreach (var s in seeds)
            foreach (var d in documents) sum += cells[s][d];
        return sum / (seeds.Length * documents.Length);
    }

    /// <summary>The p-quantile of sorted values, interpolating linearly between the order statistics at (n − 1)·p.</summary>
    public static double Percentile(double[] sorted, double p)
    {
        var h = (sorted.Length - 1) * p;
        var below = (int)Math.Floor(h);
        var above = Math.Min(below + 1, sorted.Length - 1);
        return sorted[below] + (h - below) * (sorted[above] - sorted[below]);
    }
}
