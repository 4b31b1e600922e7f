using MultiTeacher.Mixing;
using static TorchSharp.torch;

namespace MultiTeacher.Tests.Mixing;

public class MixingPolicyTests
{
    private const int K = 3, N = 12, V = 40;

    public static TheoryData<string> Policies() => ["weighted", "uniform", "confidence", "avg_ce", "min_ce", "product"];

    private static MixingPolicy Create(string policy, double[]? weights = null, bool perSequence = false) =>
        MixingPolicy.Create(new MixingSettings(policy, Temperature: 0.7, PerSequence: perSequence), weights ?? [1.0, 2.0, 0.5]);

    /// <summary>Random teacher distributions with some zeros, random presence (at least one teacher per position).</summary>
    private static MixingInput RandomInput(long seed, int teachers = K)
    {
        var g = new Generator((ulong)seed);
        var logits = randn([teachers, N, V], generator: g) * 3;
        var mask = rand([teachers, N, V], generator: g) < 0.2;
        var q = softmax(logits.masked_fill(mask, double.NegativeInfinity), -1);
        var present = rand([teachers, N], generator: g) < 0.7;
        present[0] = present[0] | present.logical_not().all(0);                    // someone is present everywhere
        var gold = randint(0, V, [N], generator: g);
        var goldLogProb = q.gather(2, gold.view(1, N, 1).expand(teachers, N, 1)).squeeze(2).clamp_min(1e-10).log();
        var sequence = tensor(Enumerable.Range(0, N).Select(i => (long)(i / 4)).ToArray());
        return new MixingInput(q, present, goldLogProb, sequence);
    }

    [Theory, MemberData(nameof(Policies))]
    public void Weights_SumToOne_OverPresentTeachers_AndTargetsAreDistributions(string policy)
    {
        using var scope = NewDisposeScope();
        foreach (var perSequence in new[] { false, true })
        {
            var input = RandomInput(3);
            var r = Create(policy, perSequence: perSequence).Mix(input);
            Assert.True(allclose(r.Weights.sum(dim: 0), ones(N), atol: 1e-5));
            Assert.True(r.Weights.masked_select(input.Present.logical_not()).eq(0).all().item<bool>(), "absent teachers got weight");
            Assert.True(allclose(r.Target.sum(-1), ones(N), atol: 1e-4));
            Assert.True((r.Target >= 0).all().item<bool>());
        }
    }

    [Theory, MemberData(nameof(Policies))]
    public void SingleTeacher_IsReproduced(string policy)
    {
        using var scope = NewDisposeScope();
        var input = RandomInput(5, teachers: 1);
        input = input with { Present = ones([1, N], dtype: ScalarType.Bool) };
        var r = Create(policy, weights: [0.3]).Mix(input);
        Assert.True(allclose(r.Target, input.Distributions[0], atol: 1e-5), $"max diff {(r.Target - input.Distributions[0]).abs().max().item<float>()}");
    }

    [Theory]
    [InlineData("weighted")]
    [InlineData("product")]
    public void ZeroWeightTeacher_HasNoInfluence(string policy)
    {
        using var scope = NewDisposeScope();
        var input = RandomInput(7);
        input = input with { Present = ones([K, N], dtype: ScalarType.Bool) };
        var a = Create(policy, weights: [1.0, 2.0, 0.0]).Mix(input).Target;
        var changed = input.Distributions.clone();
        changed[2] = softmax(randn([N, V]), -1);
        var b = Create(policy, weights: [1.0, 2.0, 0.0]).Mix(input with { Distributions = changed }).Target;
        Assert.True(allclose(a, b, atol: 1e-6));
    }

    [Fact]
    public void Confidence_PrefersTheSharperTeacher()
    {
        using var scope = NewDisposeScope();
        var sharp = softmax(tensor(new float[] { 10, 0, 0, 0 }), 0);
        var flat = full(4, 0.25f);
        var input = new MixingInput(stack([sharp, flat]).unsqueeze(1), ones([2, 1], dtype: ScalarType.Bool));
        var w = Create("confidence").Mix(input).Weights;
        Assert.True(w[0, 0].item<float>() > w[1, 0].item<float>());
    }

    [Fact]
    public void MinCe_PicksTheTeacherThatPredictsTheGoldTokenBest_PerSequence()
    {
        using var scope = NewDisposeScope();
        // Two sequences of two positions; teacher 1 is better on sequence 0, teacher 0 on sequence 1.
        var goldLogProb = tensor(new float[,] { { -3, -3, -0.1f, -0.2f }, { -0.5f, -0.5f, -2, -2 } });
        var q = softmax(randn([2, 4, 5]), -1);
        var input = new MixingInput(q, ones([2, 4], dtype: ScalarType.Bool), goldLogProb, tensor(new long[] { 0, 0, 1, 1 }));
        var w = Create("min_ce", perSequence: true).Mix(input).Weights;
        Assert.Equal(new float[] { 0, 0, 1, 1 }, w[0].data<float>().ToArray());
        Assert.Equal(new float[] { 1, 1, 0, 0 }, w[1].data<float>().ToArray());
    }
}
