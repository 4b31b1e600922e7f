using MultiTeacher.Evaluation;

namespace MultiTeacher.Tests.Evaluation;

[Trait("Category", TestCategory.Unit)]
public sealed class PairedBootstrapTests
{
    [Fact]
    public void Mean_OfTwoDocuments_SpansTheWholeBootstrapDistribution()
    {
        // One seed, documents {0, 1}: a resample's mean is 0, 0.5 or 1 with probabilities 1/4, 1/2, 1/4,
        // so the 2.5% and 97.5% percentiles are 0 and 1 exactly.
        var interval = PairedBootstrap.Mean([[0.0, 1.0]]);
        Assert.Equal(new BootstrapInterval(0.5, 0, 1), interval);
        Assert.False(interval.ExcludesZero);
    }

    [Fact]
    public void Mean_ResamplesSeedsToo()
    {
        // Two seeds whose every document differs by 2: with documents alone resampled the interval would be [1, 1].
        var interval = PairedBootstrap.Mean([[0.0, 0.0, 0.0], [2.0, 2.0, 2.0]]);
        Assert.Equal(new BootstrapInterval(1, 0, 2), interval);
    }

    [Fact]
    public void Mean_MatchesANaiveResamplingOfTheSameDraws()
    {
        double[][] cells = [[0.3, -0.1, 0.7, 0.2, -0.4], [0.1, 0.0, 0.5, 0.9, -0.2], [-0.3, 0.4, 0.2, 0.1, 0.6]];
        const int resamples = 500, seed = 7;
        var rng = new Random(seed);
        var means = new List<double>();
        for (var r = 0; r < resamples; r++)
        {
            var seeds = Enumerable.Range(0, 3).Select(_ => rng.Next(3)).ToList();
            var docs = Enumerable.Range(0, 5).Select(_ => rng.Next(5)).ToList();
            var picked = new List<double>();
            foreach (var s in seeds) foreach (var d in docs) picked.Add(cells[s][d]);
            means.Add(picked.Average());
        }
        means.Sort();
        // Percentile by linear interpolation at (n − 1)·p: 499·0.025 = 12.475, 499·0.975 = 486.525.
        var low = means[12] + 0.475 * (means[13] - means[12]);
        var high = means[486] + 0.525 * (means[487] - means[486]);

        var interval = PairedBootstrap.Mean(cells, resamples, seed);
        Assert.Equal(cells.SelectMany(c => c).Average(), interval.Estimate, 12);
        Assert.Equal(low, interval.Low, 12);
        Assert.Equal(high, interval.High, 12);
    }

    [Fact]
    public void Ratio_IsTheRatioOfMeans_NotTheMeanOfRatios()
    {
        // Means 2.5 and 1.5: 5/3. The mean of the per-cell ratios would be (1 + 2) / 2 = 1.5.
        var ratio = PairedBootstrap.Ratio([[1.0, 4.0]], [[1.0, 2.0]]);
        Assert.Equal(5.0 / 3, ratio.Estimate, 12);
        // Resamples: both docs 0 → 1, both docs 1 → 2, one of each → 5/3.
        Assert.Equal(1, ratio.Low, 12);
        Assert.Equal(2, ratio.High, 12);
    }

    [Fact]
    public void Ratio_ResamplesNumeratorAndDenominatorTogether()
    {
        // Numerator always half the denominator, cell by cell: any shared draw gives exactly 0.5; independent draws would not.
        var ratio = PairedBootstrap.Ratio([[1.0, 3.0, 10.0], [2.0, 0.5, 4.0]], [[2.0, 6.0, 20.0], [4.0, 1.0, 8.0]]);
        Assert.Equal(new BootstrapInterval(0.5, 0.5, 0.5), ratio);
    }

    [Theory]
    [InlineData(0.25, 2.0)]
    [InlineData(0.1, 1.4)]
    [InlineData(1.0, 5.0)]
    [InlineData(0.0, 1.0)]
    public void Percentile_InterpolatesBetweenOrderStatistics(double p, double expected) =>
        Assert.Equal(expected, PairedBootstrap.Percentile([1, 2, 3, 4, 5], p), 12);

    [Fact]
    public void Samples_OfDifferentShapes_AreRejected() =>
        Assert.Throws<ArgumentException>(() => PairedBootstrap.Ratio([[1.0, 2.0]], [[1.0, 2.0, 3.0]]));
}
