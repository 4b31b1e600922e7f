using MultiTeacher.Merging;
using static TorchSharp.torch;

namespace MultiTeacher.Tests.Merging;

[Trait("Category", TestCategory.Unit)]
public class TrimThresholdTests
{
    private const int N = 4 * TrimThreshold.Runs * TrimThreshold.RunLength;

    private static Tensor Bf16(Tensor t) => t.to(ScalarType.BFloat16);

    /// <summary>The k-th largest |θ − θ_base| by libtorch's selection over the whole tensor.</summary>
    private static float KthValue(Tensor theta0, Tensor model, long k) =>
        (model.to(ScalarType.Float32) - theta0.to(ScalarType.Float32)).abs().reshape(-1).kthvalue(model.numel() - k + 1, 0, false).values.item<float>();

    private static (float[] Thresholds, int NonFinite, List<(long, long)> Blocks) Find(Tensor theta0, Tensor[] models, long[] ks, long blockEntries = 70_000)
    {
        using var t0 = new FloatReader(theta0);
        var readers = models.Select(m => new FloatReader(m)).ToList();
        var blocks = new List<(long, long)>();
        var thresholds = TrimThreshold.Find(t0, readers, ks, blockEntries, (from, count) => blocks.Add((from, count)), out var nonFinite);
        readers.ForEach(r => r.Dispose());
        return (thresholds, nonFinite, blocks);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.001)]
    [InlineData(0.98)]
    [InlineData(1.0)]
    public void Each_models_threshold_is_the_kth_largest_delta_magnitude(double density)
    {
        // bf16 values make many magnitudes equal, so entries tie with the threshold.
        var theta0 = Bf16(randn(N, generator: new Generator(1)) * 0.02);
        var models = new[] { Bf16(randn(N, generator: new Generator(2)) * 0.02), Bf16(randn(N, generator: new Generator(3)) * 0.5) };
        var ks = new[] { (long)(density * N), (long)(density * N / 3) };
        var (thresholds, nonFinite, blocks) = Find(theta0, models, ks);
        for (var m = 0; m < 2; m++)
            Assert.Equal(BitConverter.SingleToInt32Bits(KthValue(theta0, models[m], ks[m])), BitConverter.SingleToInt32Bits(thresholds[m]));
        Assert.Equal(0, nonFinite);
        // Every block is handed back once, in order.
        Assert.Equal(Enumerable.Range(0, (N + 69_999) / 70_000).Select(b => (b * 70_000L, Math.Min(70_000L, N - b * 70_000L))), blocks);
    }

    [Fact]
    public void A_sample_that_misses_the_threshold_still_gives_it_exactly()
    {
        // Deltas are 0.001 inside the sampled runs and between 1 and 2 everywhere else, so the sample's
        // bracket lies far below the median; the counts show it and the selection runs over every entry.
        var delta = new float[N];
        for (var j = 0; j < N; j++) delta[j] = 1 + j % 1000 / 1000f;
        for (var r = 0; r < TrimThreshold.Runs; r++)
        {
            var start = r * (N - TrimThreshold.RunLength) / (TrimThreshold.Runs - 1);
            Array.Fill(delta, 0.001f, start, TrimThreshold.RunLength);
        }
        var theta0 = zeros(N);
        var model = tensor(delta);
        Assert.Equal(KthValue(theta0, model, N / 2), Find(theta0, [model], [N / 2]).Thresholds[0]);
    }

    [Fact]
    public void Identical_models_and_k_of_zero_give_zero_and_infinity()
    {
        var theta0 = Bf16(randn(N, generator: new Generator(4)));
        var (thresholds, _, _) = Find(theta0, [theta0, theta0], [N / 2, 0]);
        Assert.Equal(0f, thresholds[0]);
        Assert.Equal(float.PositiveInfinity, thresholds[1]);
    }

    [Fact]
    public void NaN_and_Inf_are_reported_per_input()
    {
        var theta0 = randn(N, generator: new Generator(5));
        var (clean, withNaN, withInf) = (randn(N, generator: new Generator(6)), randn(N, generator: new Generator(7)), randn(N, generator: new Generator(8)));
        withNaN[N - 3] = float.NaN;
        withInf[100_001] = float.NegativeInfinity;
        // Bit 0 is the base, bit i + 1 model i; a model with nothing to trim (k = 0) is checked too.
        Assert.Equal((1 << 2) | (1 << 3), Find(theta0, [clean, withNaN, withInf], [10, 10, 0]).NonFinite);
        theta0[0] = float.NaN;
        Assert.Equal(1, Find(theta0, [clean], [10]).NonFinite);
    }
}
