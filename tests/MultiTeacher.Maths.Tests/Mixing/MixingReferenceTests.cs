using MultiTeacher.Mixing;
using MultiTeacher.Settings;
using static TorchSharp.torch;

namespace MultiTeacher.Tests.Mixing;

/// <summary>Every mixing policy against worked examples and against <see cref="NaiveMixing"/>.</summary>
[Trait("Category", TestCategory.Unit)]
public class MixingReferenceTests
{
    private static MixingResult Mix(string policy, float[,,] q, bool[,]? present = null, float[,]? goldLogProb = null, long[]? sequence = null,
        double[]? weights = null, double temperature = 1, bool perSequence = false)
    {
        var (k, n) = (q.GetLength(0), q.GetLength(1));
        var input = MixingInput.FromDense(tensor(q), present is null ? ones([k, n], dtype: ScalarType.Bool) : tensor(present),
            goldLogProb is null ? null : tensor(goldLogProb), sequence is null ? null : tensor(sequence));
        return MixingPolicy.Create(Settings(policy, temperature, perSequence), weights ?? Enumerable.Repeat(1.0, k).ToArray()).Mix(input);
    }

    private static float[] Row(Tensor t) => t.data<float>().ToArray();

    [Fact]
    public void Weighted_RenormalisesOverThePresentTeachers_AndPoolsLinearly()
    {
        using var scope = NewDisposeScope();
        // Weights (1, 3). Position 0: both present → (0.25, 0.75); target 0.25·(0.5, 0.5) + 0.75·(0.9, 0.1) = (0.8, 0.2).
        // Position 1: teacher 1 absent → (1, 0); target is teacher 0's (0.2, 0.8).
        var r = Mix("weighted", new float[,,] { { { 0.5f, 0.5f }, { 0.2f, 0.8f } }, { { 0.9f, 0.1f }, { 0.6f, 0.4f } } },
            present: new[,] { { true, true }, { true, false } }, weights: [1, 3]);
        Assert.Equal(new[] { 0.25f, 1f }, Row(r.Weights[0]), Close);
        Assert.Equal(new[] { 0.75f, 0f }, Row(r.Weights[1]), Close);
        Assert.Equal(new[] { 0.8f, 0.2f, 0.2f, 0.8f }, Row(r.Target.Dense()), Close);
    }

    [Fact]
    public void Uniform_IgnoresTheTeacherWeights()
    {
        using var scope = NewDisposeScope();
        // ½ (0.5, 0.5) + ½ (0.9, 0.1) = (0.7, 0.3), whatever the recipe's weights say.
        var r = Mix("uniform", new float[,,] { { { 0.5f, 0.5f } }, { { 0.9f, 0.1f } } }, weights: [1, 3]);
        Assert.Equal(new[] { 0.7f, 0.3f }, Row(r.Target.Dense()), Close);
    }

    [Theory]
    [InlineData(1.0, 1.0 / 3)]
    [InlineData(0.5, 0.2)]
    public void Confidence_WeighsByExpOfMinusEntropyOverTemperature(double temperature, double flatWeight)
    {
        using var scope = NewDisposeScope();
        // Flat teacher (0.5, 0.5): H = ln 2; sharp teacher (1, 0): H = 0.
        // τ = 1: exp(-ln 2) = 1/2 against 1 → weights (1/3, 2/3).  τ = 0.5: exp(-2 ln 2) = 1/4 against 1 → (0.2, 0.8).
        var r = Mix("confidence", new float[,,] { { { 0.5f, 0.5f } }, { { 1f, 0f } } }, temperature: temperature);
        Assert.Equal(flatWeight, r.Weights[0, 0].item<float>(), 5);
        Assert.Equal(1 - flatWeight, r.Weights[1, 0].item<float>(), 5);
        // Target: w·(0.5, 0.5) + (1 - w)·(1, 0).
        Assert.Equal(new[] { (float)(1 - flatWeight / 2), (float)(flatWeight / 2) }, Row(r.Target.Dense()), Close);
    }

    [Fact]
    public void Confidence_KeepsItsWeights_WhenExpOfMinusEntropyOverTemperatureUnderflows()
    {
        using var scope = NewDisposeScope();
        // H(0.5, 0.5) = ln 2 = 0.693 and H(0.9, 0.1) = 0.325 at τ = 0.005: e^(-H/τ) is below float32's
        // range for both, but the weights depend only on the difference: the flat teacher's is
        // 1 / (1 + e^((ln 2 - 0.325) / τ)) ≈ 1e-32, the sharp teacher's 1.
        var r = Mix("confidence", new float[,,] { { { 0.5f, 0.5f } }, { { 0.9f, 0.1f } } }, temperature: 0.005);
        var sharpEntropy = -(0.9 * Math.Log(0.9) + 0.1 * Math.Log(0.1));
        Assert.Equal(1 / (1 + Math.Exp((Math.Log(2) - sharpEntropy) / 0.005)), r.Weights[0, 0].item<float>(), 6);
        Assert.Equal(1.0, r.Weights[1, 0].item<float>(), 6);
    }

    [Theory]
    [InlineData(1.0, 0.731059)]   // 1 / (1 + e^-1)
    [InlineData(0.5, 0.880797)]   // 1 / (1 + e^-2)
    public void AvgCe_PerToken_WeighsByExpOfMinusCrossEntropyOverTemperature(double temperature, double firstWeight)
    {
        using var scope = NewDisposeScope();
        // Cross-entropies on the gold token 1 and 2: weights ∝ (e^{-1/τ}, e^{-2/τ}).
        var r = Mix("avg_ce", new float[,,] { { { 0.5f, 0.5f } }, { { 0.9f, 0.1f } } }, goldLogProb: new float[,] { { -1 }, { -2 } },
            temperature: temperature);
        Assert.Equal(firstWeight, r.Weights[0, 0].item<float>(), 5);
        Assert.Equal(1 - firstWeight, r.Weights[1, 0].item<float>(), 5);
    }

    [Fact]
    public void AvgCe_KeepsItsWeights_WhenEveryCrossEntropyIsHundredsOfNats()
    {
        using var scope = NewDisposeScope();
        // CE 400 and 401 nats: e^-400 underflows float32, but the weights depend only on the difference,
        // (1/(1+e^-1), 1/(1+e^1)) = (0.731059, 0.268941), as at CE 1 and 2.
        var r = Mix("avg_ce", new float[,,] { { { 0.5f, 0.5f } }, { { 0.9f, 0.1f } } }, goldLogProb: new float[,] { { -400 }, { -401 } });
        Assert.Equal(0.731059, r.Weights[0, 0].item<float>(), 5);
        Assert.Equal(0.268941, r.Weights[1, 0].item<float>(), 5);
    }

    [Fact]
    public void AvgCe_PerSequence_AveragesTheCrossEntropyOverEachSequence()
    {
        using var scope = NewDisposeScope();
        // One sequence of two positions. Teacher 0's CE (1, 3), teacher 1's (2, 2): both average 2, so the
        // weights are ½ at both positions; per token they would be 1/(1+e^-1) = 0.731 at position 0 and 1/(1+e^1) = 0.269 at 1.
        var q = new float[,,] { { { 0.5f, 0.5f }, { 0.5f, 0.5f } }, { { 0.9f, 0.1f }, { 0.9f, 0.1f } } };
        var gold = new float[,] { { -1, -3 }, { -2, -2 } };
        var perSequence = Mix("avg_ce", q, goldLogProb: gold, sequence: [0, 0], perSequence: true);
        Assert.Equal(new[] { 0.5f, 0.5f }, Row(perSequence.Weights[0]), Close);
        var perToken = Mix("avg_ce", q, goldLogProb: gold, sequence: [0, 0], perSequence: false);
        Assert.Equal(new[] { 0.731059f, 0.268941f }, Row(perToken.Weights[0]), Close);
    }

    [Fact]
    public void MinCe_PerToken_PicksTheLowestCrossEntropyAtEachPosition_TiesToTheFirstTeacher()
    {
        using var scope = NewDisposeScope();
        // Position 0: CE (1, 3) → teacher 0; position 1: CE (3, 1) → teacher 1; position 2: a tie → teacher 0.
        var q = new float[,,] { { { 0.5f, 0.5f }, { 0.5f, 0.5f }, { 0.5f, 0.5f } }, { { 0.9f, 0.1f }, { 0.9f, 0.1f }, { 0.9f, 0.1f } } };
        var r = Mix("min_ce", q, goldLogProb: new float[,] { { -1, -3, -2 }, { -3, -1, -2 } });
        Assert.Equal(new[] { 1f, 0f, 1f }, Row(r.Weights[0]));
        Assert.Equal(new[] { 0.5f, 0.5f, 0.9f, 0.1f, 0.5f, 0.5f }, Row(r.Target.Dense()), Close);
    }

    [Fact]
    public void MinCe_IgnoresAnAbsentTeacher_EvenWithTheLowestCrossEntropy()
    {
        using var scope = NewDisposeScope();
        var r = Mix("min_ce", new float[,,] { { { 0.5f, 0.5f } }, { { 0.9f, 0.1f } } }, present: new[,] { { false }, { true } },
            goldLogProb: new float[,] { { -0.1f }, { -5 } });
        Assert.Equal(new[] { 0f, 1f }, Row(r.Weights.squeeze(1)));
    }

    [Fact]
    public void Product_IsTheNormalisedWeightedGeometricMean_NotTheLinearMean()
    {
        using var scope = NewDisposeScope();
        // Equal weights: √(0.5·0.9) : √(0.5·0.1) = √0.45 : √0.05 = 3 : 1 → (0.75, 0.25); the linear pool would give (0.7, 0.3).
        var equal = Mix("product", new float[,,] { { { 0.5f, 0.5f } }, { { 0.9f, 0.1f } } });
        Assert.Equal(new[] { 0.75f, 0.25f }, Row(equal.Target.Dense()), Close);
        // Weights (1, 3) → (¼, ¾): 0.5^¼ 0.9^¾ : 0.5^¼ 0.1^¾ = 9^¾ : 1 = 5.196 : 1 → (0.838609, 0.161391).
        var skewed = Mix("product", new float[,,] { { { 0.5f, 0.5f } }, { { 0.9f, 0.1f } } }, weights: [1, 3]);
        Assert.Equal(new[] { 0.838609f, 0.161391f }, Row(skewed.Target.Dense()), Close);
    }

    [Fact]
    public void Product_KeepsATokenOnlyOneTeacherGivesAFlooredShare()
    {
        using var scope = NewDisposeScope();
        // Teacher 1 gives token 1 zero probability: floored at 1e-10, so (0.5·1)^½ : (0.5·1e-10)^½ = 1 : 1e-5.
        var r = Mix("product", new float[,,] { { { 0.5f, 0.5f } }, { { 1f, 0f } } });
        var target = Row(r.Target.Dense());
        Assert.Equal(1e-5 / (1 + 1e-5), target[1], 9);
    }

    public static TheoryData<string, bool> PoliciesAndGrouping()
    {
        var data = new TheoryData<string, bool>();
        foreach (var policy in new[] { "weighted", "uniform", "confidence", "avg_ce", "min_ce", "product" })
            foreach (var perSequence in new[] { false, true })
                data.Add(policy, perSequence);
        return data;
    }

    [Theory, MemberData(nameof(PoliciesAndGrouping))]
    public void EveryPolicy_MatchesTheNaiveDefinition(string policy, bool perSequence)
    {
        using var scope = NewDisposeScope();
        const int k = 3, n = 10, v = 7;
        const double temperature = 0.7;
        double[] weights = [1.0, 2.0, 0.5];
        var rng = new Random(29);
        var q = new float[k, n, v];
        var present = new bool[k, n];
        var gold = new float[k, n];
        for (var t = 0; t < k; t++)
            for (var p = 0; p < n; p++)
            {
                var row = Enumerable.Range(0, v).Select(_ => rng.NextDouble() < 0.2 ? 0 : Math.Exp(rng.NextDouble() * 5)).ToArray();
                for (var i = 0; i < v; i++) q[t, p, i] = (float)(row[i] / row.Sum());
                present[t, p] = t == 0 && p % 3 == 0 || rng.NextDouble() < 0.7;
                gold[t, p] = (float)-(rng.NextDouble() * 6);
            }
        long[] sequence = [0, 0, 0, 1, 1, 1, 1, 2, 2, 2];
        var r = Mix(policy, q, present, gold, sequence, weights, temperature, perSequence);

        var qd = Enumerable.Range(0, k).Select(t => Enumerable.Range(0, n).Select(p => Enumerable.Range(0, v).Select(i => (double)q[t, p, i]).ToArray()).ToArray()).ToArray();
        var pd = Enumerable.Range(0, k).Select(t => Enumerable.Range(0, n).Select(p => present[t, p]).ToArray()).ToArray();
        var gd = Enumerable.Range(0, k).Select(t => Enumerable.Range(0, n).Select(p => (double)gold[t, p]).ToArray()).ToArray();
        var (w, target) = NaiveMixing.Mix(policy, qd, pd, gd, sequence, weights, temperature, perSequence);

        var actualWeights = r.Weights.data<float>().ToArray();
        var actualTarget = r.Target.Dense().data<float>().ToArray();
        for (var t = 0; t < k; t++)
            for (var p = 0; p < n; p++)
                Assert.True(Math.Abs(actualWeights[t * n + p] - w[t][p]) < 1e-5, $"{policy} weight [{t},{p}]: {actualWeights[t * n + p]} vs {w[t][p]}");
        for (var p = 0; p < n; p++)
            for (var i = 0; i < v; i++)
                Assert.True(Math.Abs(actualTarget[p * v + i] - target[p][i]) < 1e-5, $"{policy} target [{p},{i}]: {actualTarget[p * v + i]} vs {target[p][i]}");
    }

    /// <summary>The settings a recipe with these spellings gives.</summary>
    public static MixingSettings Settings(string policy, double temperature = 1.0, bool perSequence = true) => new()
    {
        Policy = SettingNames.Parse<MixingPolicyKind>(policy), Temperature = temperature,
        Granularity = perSequence ? MixingGranularity.Sequence : MixingGranularity.Token,
    };

    [Fact]
    public void CrossEntropyPolicies_NeedTheGoldLogProbabilities_AndPerSequenceTheSequences()
    {
        using var scope = NewDisposeScope();
        var q = new float[,,] { { { 0.5f, 0.5f } } };
        Assert.Contains("log-probabilities of the gold tokens", Assert.Throws<InvalidOperationException>(() => Mix("avg_ce", q)).Message);
        Assert.Contains("sequence index", Assert.Throws<InvalidOperationException>(() => Mix("min_ce", q, goldLogProb: new float[,] { { -1 } }, perSequence: true)).Message);
    }

    [Fact]
    public void PolicyNames_AreTheRecipeNames()
    {
        foreach (var name in new[] { "weighted", "confidence", "avg_ce", "min_ce", "product" })
            Assert.Equal(name, MixingPolicy.Create(Settings(name), [1.0]).Name);
    }

    private static readonly FloatTolerance Close = new(1e-5f);
}
