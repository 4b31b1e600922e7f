using MultiTeacher.Merging;
using static TorchSharp.torch;

namespace MultiTeacher.Tests.Merging;

[Trait("Category", TestCategory.Unit)]
public class MergeMethodTests
{
    private static Tensor T(params float[] values) => tensor(values);
    private static Tensor T2(float[,] values) => tensor(values);

    private static void Close(Tensor actual, float[] expected, double tolerance = 1e-5)
    {
        var got = actual.to(ScalarType.Float32).reshape(-1).data<float>().ToArray();
        Assert.Equal(expected.Length, got.Length);
        for (var i = 0; i < got.Length; i++) Assert.True(Math.Abs(got[i] - expected[i]) <= tolerance, $"entry {i}: {got[i]} vs {expected[i]}");
    }

    [Fact]
    public void Linear_of_identical_models_is_the_model()
    {
        var x = randn(4, 5, generator: new Generator(3));
        var merged = LinearMerge.Merge([x, x.clone(), x.clone()], [0.2, 0.5, 0.3], normalize: true);
        Close(merged, x.reshape(-1).data<float>().ToArray(), 1e-6);
    }

    [Fact]
    public void Linear_is_the_normalized_weighted_average()
    {
        // (1·[1, 2] + 3·[3, 6]) / 4 = [2.5, 5]; without normalizing, the sum [10, 20].
        Close(LinearMerge.Merge([T(1, 2), T(3, 6)], [1, 3], normalize: true), [2.5f, 5f]);
        Close(LinearMerge.Merge([T(1, 2), T(3, 6)], [1, 3], normalize: false), [10f, 20f]);
    }

    [Fact]
    public void Slerp_gives_the_endpoints_at_zero_and_one()
    {
        var (a, b) = (T(1, 2, -1), T(-0.5f, 3, 4));
        Close(SlerpMerge.Merge(0, a, b), [1, 2, -1]);
        Close(SlerpMerge.Merge(1, a, b), [-0.5f, 3, 4]);
    }

    [Fact]
    public void Slerp_at_half_follows_the_arc_between_orthogonal_vectors()
    {
        // Unit directions are orthogonal: Ω = π/2, both coefficients sin(π/4)/sin(π/2) = √2/2,
        // applied to the unnormalised vectors: √2/2·[1, 0] + √2/2·[0, 2] = [0.7071068, 1.4142136].
        Close(SlerpMerge.Merge(0.5, T(1, 0), T(0, 2)), [0.70710678f, 1.41421356f]);
    }

    [Fact]
    public void Slerp_falls_back_to_lerp_for_nearly_colinear_vectors()
    {
        // cos Ω ≈ 0.99999999 > 0.9995: plain (a + b) / 2.
        Close(SlerpMerge.Merge(0.5, T(1, 1), T(2, 2.0001f)), [1.5f, 1.50005f]);
    }

    [Fact]
    public void Task_arithmetic_adds_weighted_deltas_to_the_base()
    {
        // δ1 = [1, 0, −1] (weight 0.5), δ2 = [0, 2, 0] (weight 1) on base [1, 1, 1].
        var (b, m1, m2) = (T(1, 1, 1), T(2, 1, 0), T(1, 3, 1));
        TaskVectorInput[] models = [new(m1, 0.5, 1), new(m2, 1, 1)];
        Close(TaskVectorMerge.Merge(b, models, Sparsification.None, false, normalize: false, rescale: false, lambda: 1), [1.5f, 3f, 0.5f]);
        Close(TaskVectorMerge.Merge(b, models, Sparsification.None, false, normalize: false, rescale: false, lambda: 2), [2f, 5f, 0f]);
        // normalize divides the mixed delta by Σw = 1.5: [1 + 0.5/1.5, 1 + 2/1.5, 1 − 0.5/1.5].
        Close(TaskVectorMerge.Merge(b, models, Sparsification.None, false, normalize: true, rescale: false, lambda: 1), [4f / 3, 7f / 3, 2f / 3]);
    }

    // A hand-worked TIES example on 2×3 deltas, density 0.5 (keep 3 of 6), weights 1, 1, 0.5.
    private static readonly float[,] Delta1 = { { 0.5f, -0.2f, 0.1f }, { -0.9f, 0.3f, 0.05f } };
    private static readonly float[,] Delta2 = { { -0.4f, 0.6f, -0.3f }, { 0.2f, -0.1f, 0.7f } };
    private static readonly float[,] Delta3 = { { 0.3f, -0.8f, 0.2f }, { -0.1f, 0.4f, -0.6f } };

    [Fact]
    public void Ties_trim_keeps_the_largest_magnitudes()
    {
        // |δ1| ranks 0.9, 0.5, 0.3 above 0.2, 0.1, 0.05. One model of weight 1 on a zero base, summed
        // without election: the merge is the trimmed delta itself.
        static Tensor Trim(float[,] delta) => TaskVectorMerge.Merge(zeros(2, 3), [new(T2(delta), 1, 0.5)], Sparsification.Magnitude, false, normalize: false, rescale: false, lambda: 1);
        Close(Trim(Delta1), [0.5f, 0, 0, -0.9f, 0.3f, 0]);
        Close(Trim(Delta2), [-0.4f, 0.6f, 0, 0, 0, 0.7f]);
        Close(Trim(Delta3), [0, -0.8f, 0, 0, 0.4f, -0.6f]);
    }

    [Fact]
    public void Ties_elects_signs_and_takes_the_disjoint_mean()
    {
        // Trimmed and weighted (w = 1, 1, 0.5):
        //   W1 = [[0.5, 0, 0], [−0.9, 0.3, 0]]   W2 = [[−0.4, 0.6, 0], [0, 0, 0.7]]   W3 = [[0, −0.4, 0], [0, 0.2, −0.3]]
        // Σ = [[0.1, 0.2, 0], [−0.9, 0.5, 0.4]] → elected signs [[+, +, +], [−, +, +]].
        // Agreeing entries and their weights: (0,0) 0.5/1; (0,1) 0.6/1; (0,2) none → 0; (1,0) −0.9/1;
        // (1,1) (0.3 + 0.2)/(1 + 0.5) = 1/3; (1,2) 0.7/1. The base (all ones) is added back.
        var baseTensor = ones(2, 3);
        TaskVectorInput[] models = [new(baseTensor + T2(Delta1), 1, 0.5), new(baseTensor + T2(Delta2), 1, 0.5), new(baseTensor + T2(Delta3), 0.5, 0.5)];
        var merged = TaskVectorMerge.Merge(baseTensor, models, Sparsification.Magnitude, signConsensus: true, normalize: true, rescale: false, lambda: 1);
        Close(merged, [1.5f, 1.6f, 1f, 0.1f, 1 + 1f / 3, 1.7f]);
    }

    [Theory]
    [InlineData(true, 1.0)]
    [InlineData(false, 0.7)]
    public void Ties_on_bf16_tensors_matches_a_naive_entry_by_entry_merge(bool normalize, double lambda)
    {
        // 1,003 entries: whole vectors of eight and a tail of three. bf16 inputs round many deltas to
        // the same magnitude, so entries tied with the trim threshold occur. The reference below works
        // entry by entry in doubles from the same bf16 values: sort for the k-th largest |δ|, keep
        // |δ| ≥ it, elect the sign of Σ w·δ, average the agreeing w·δ over their weights.
        const int n = 1003;
        var rows = new[] { 0, 1, 2 }.Select(i => (randn(n, generator: new Generator((ulong)(40 + i))) * 0.05).to(ScalarType.BFloat16)).ToArray();
        var (weights, densities) = (new[] { 0.6, 1.3 }, new[] { 0.45, 0.8 });
        var merged = TaskVectorMerge.Merge(rows[0], [new(rows[1], weights[0], densities[0]), new(rows[2], weights[1], densities[1])],
            Sparsification.Magnitude, signConsensus: true, normalize: normalize, rescale: false, lambda: lambda).data<float>().ToArray();

        var values = rows.Select(r => r.to(ScalarType.Float32).data<float>().ToArray()).ToArray();
        var kept = new double[2][];
        for (var m = 0; m < 2; m++)
        {
            var delta = Enumerable.Range(0, n).Select(j => (double)(values[m + 1][j] - values[0][j])).ToArray();
            var k = (int)(densities[m] * n);
            var threshold = delta.Select(Math.Abs).OrderByDescending(x => x).ElementAt(k - 1);
            kept[m] = delta.Select(d => Math.Abs(d) >= threshold ? d * weights[m] : 0).ToArray();
        }
        for (var j = 0; j < n; j++)
        {
            var sign = kept[0][j] + kept[1][j] >= 0 ? 1 : -1;
            double sum = 0, weight = 0;
            for (var m = 0; m < 2; m++)
                if (Math.Sign(kept[m][j]) == sign) (sum, weight) = (sum + kept[m][j], weight + weights[m]);
            var expected = values[0][j] + (normalize ? sum / (weight == 0 ? 1 : weight) : sum) * lambda;
            Assert.True(Math.Abs(merged[j] - expected) < 1e-5, $"entry {j}: {merged[j]} against {expected}");
        }
    }

    [Fact]
    public void Dare_rescaled_drops_average_to_the_input_delta()
    {
        const double density = 0.3;
        var delta = randn(400, generator: new Generator(11));
        var sum = zeros_like(delta);
        const int draws = 3000;
        var keptShare = 0.0;
        for (var seed = 0; seed < draws; seed++)
        {
            using var g = new Generator((ulong)seed);
            var dropped = Sparsify.Random(delta, density, rescale: true, g);
            keptShare += dropped.ne(0).to(ScalarType.Float32).mean().item<float>() / draws;
            // A survivor is exactly δ/p.
            var kept = dropped.ne(0);
            Assert.True((dropped.masked_select(kept) - delta.masked_select(kept) / density).abs().max().item<float>() < 1e-5);
            sum.add_(dropped);
        }
        var mean = sum / draws;
        // Per entry the mean's standard error is |δ|·sqrt((1−p)/(p·N)) ≈ 0.028|δ|.
        var error = ((mean - delta).abs() / (delta.abs() + 1e-3)).mean().item<float>();
        Assert.True(error < 0.04, $"relative error {error}");
        Assert.InRange(keptShare, 0.29, 0.31);
        // Without the rescale the expectation is p·δ instead.
        using var g2 = new Generator(5);
        var unscaled = Sparsify.Random(delta, density, rescale: false, g2);
        Assert.True((unscaled.masked_select(unscaled.ne(0)) - delta.masked_select(unscaled.ne(0))).abs().max().item<float>() < 1e-6);
    }

    [Fact]
    public void Model_stock_ratio_matches_its_closed_form()
    {
        // k = 2 at cos = 1/√2: 2c/(1 + c) = 2/(√2 + 1) = 2(√2 − 1).
        Assert.Equal(2 * (Math.Sqrt(2) - 1), ModelStockMerge.Ratio(1 / Math.Sqrt(2), 2), 12);
        // Two offsets [1, 0] and [1, 1] from a zero base: average [1, 0.5], times t = 2(√2 − 1).
        var t = 2 * (Math.Sqrt(2) - 1);
        var merged = ModelStockMerge.Merge(zeros(2), [T(1, 0), T(1, 1)], filterWise: false);
        Close(merged, [(float)t, (float)(0.5 * t)]);
    }

    [Fact]
    public void Model_stock_averages_pairwise_cosines_over_three_models()
    {
        // Offsets e1, e2, e1+e2 from base [1, −1, 2]: cosines 0, 1/√2, 1/√2 → mean √2/3;
        // t = 3c/(1 + 2c) = √2/(1 + 2√2/3) = 0.7279221; average offset [2/3, 2/3, 0].
        var c = Math.Sqrt(2) / 3;
        var t = 3 * c / (1 + 2 * c);
        Assert.Equal(0.7279221, t, 6);
        var b = T(1, -1, 2);
        var merged = ModelStockMerge.Merge(b, [b + T(1, 0, 0), b + T(0, 1, 0), b + T(1, 1, 0)], filterWise: false);
        Close(merged, [(float)(1 + t * 2 / 3), (float)(-1 + t * 2 / 3), 2f]);
    }
}
