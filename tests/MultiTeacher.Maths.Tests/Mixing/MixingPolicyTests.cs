using MultiTeacher.Alignment;
using MultiTeacher.Mixing;
using MultiTeacher.Settings;
using static TorchSharp.torch;

namespace MultiTeacher.Tests.Mixing;

[Trait("Category", TestCategory.Unit)]
public class MixingPolicyTests
{
    private const int K = 3, N = 12, V = 40;

    public static TheoryData<string> Policies() => ["weighted", "uniform", "confidence", "avg_ce", "min_ce", "product"];

    private static MixingPolicy Create(string policy, double[]? weights = null, bool perSequence = false) =>
        MixingPolicy.Create(new MixingSettings
        {
            Policy = SettingNames.Parse<MixingPolicyKind>(policy), Temperature = 0.7,
            Granularity = perSequence ? MixingGranularity.Sequence : MixingGranularity.Token,
        }, weights ?? [1.0, 2.0, 0.5]);

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
        return MixingInput.FromDense(q, present, goldLogProb, sequence);
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
            Assert.True(allclose(r.Target.Dense().sum(-1), ones(N), atol: 1e-4));
            Assert.True((r.Target.Dense() >= 0).all().item<bool>());
        }
    }

    [Theory, MemberData(nameof(Policies))]
    public void SingleTeacher_IsReproduced(string policy)
    {
        using var scope = NewDisposeScope();
        var input = RandomInput(5, teachers: 1);
        input = input with { Present = ones([1, N], dtype: ScalarType.Bool) };
        var r = Create(policy, weights: [0.3]).Mix(input);
        Assert.True(allclose(r.Target.Dense(), input.Values[0], atol: 1e-5), $"max diff {(r.Target.Dense() - input.Values[0]).abs().max().item<float>()}");
    }

    [Theory]
    [InlineData("weighted")]
    [InlineData("product")]
    public void ZeroWeightTeacher_HasNoInfluence(string policy)
    {
        using var scope = NewDisposeScope();
        var input = RandomInput(7);
        input = input with { Present = ones([K, N], dtype: ScalarType.Bool) };
        var a = Create(policy, weights: [1.0, 2.0, 0.0]).Mix(input).Target.Dense();
        var changed = input.Values.clone();
        changed[2] = softmax(randn([N, V]), -1);
        var b = Create(policy, weights: [1.0, 2.0, 0.0]).Mix(input with { Values = changed }).Target.Dense();
        Assert.True(allclose(a, b, atol: 1e-6));
    }

    [Fact]
    public void Confidence_PrefersTheSharperTeacher()
    {
        using var scope = NewDisposeScope();
        var sharp = softmax(tensor(new float[] { 10, 0, 0, 0 }), 0);
        var flat = full(4, 0.25f);
        var input = MixingInput.FromDense(stack([sharp, flat]).unsqueeze(1), ones([2, 1], dtype: ScalarType.Bool));
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
        var input = MixingInput.FromDense(q, ones([2, 4], dtype: ScalarType.Bool), goldLogProb, tensor(new long[] { 0, 0, 1, 1 }));
        var w = Create("min_ce", perSequence: true).Mix(input).Weights;
        Assert.Equal(new float[] { 0, 0, 1, 1 }, w[0].data<float>().ToArray());
        Assert.Equal(new float[] { 1, 1, 0, 0 }, w[1].data<float>().ToArray());
    }

    /// <summary>Random projected top-k rows of K teachers: duplicate student ids, zero entries, random tails, each teacher on a random subset of positions.</summary>
    internal static (TeacherRows[] Teachers, long[] Order, long[] Gold) RandomRows(int seed, int vocab, int k, TailTreatment treatment)
    {
        var rng = new Random(seed);
        var order = Enumerable.Range(0, N).Select(i => (long)(i * 3)).ToArray();
        var teachers = new TeacherRows[K];
        for (var t = 0; t < K; t++)
        {
            var positions = order.Where((_, i) => i % K == t || rng.NextDouble() < 0.6).ToArray();
            var rows = positions.Length;
            var ids = Enumerable.Range(0, rows * k).Select(_ => rng.Next(vocab)).ToArray();
            var probs = Enumerable.Range(0, rows * k).Select(_ => rng.NextDouble() < 0.15 ? 0f : (float)rng.NextDouble()).ToArray();
            var tail = new float[rows];
            for (var r = 0; r < rows; r++)
            {
                tail[r] = treatment == TailTreatment.Bucket ? (float)rng.NextDouble() * 0.5f : 0f;
                var sum = probs.AsSpan(r * k, k).ToArray().Sum();
                for (var i = r * k; i < (r + 1) * k; i++) probs[i] = sum > 0 ? probs[i] / sum * (1 - tail[r]) : 0;
            }
            teachers[t] = new TeacherRows(positions, new ProjectedRows(rows, k, vocab, ids, probs, tail));
        }
        return (teachers, order, order.Select(_ => (long)rng.Next(vocab)).ToArray());
    }

    [Theory, MemberData(nameof(Policies))]
    public void MixingOnTheUnionOfSupports_EqualsMixingTheDenseDistributions(string policy)
    {
        using var scope = NewDisposeScope();
        const int vocab = 50;
        foreach (var treatment in new[] { TailTreatment.Bucket, TailTreatment.Renormalize })
        {
            var (teachers, order, gold) = RandomRows(11, vocab, k: 6, treatment);
            var sequence = order.Select(p => p / 12).ToArray();
            var sparse = SupportAssembler.Assemble(teachers, order, gold, sequence, vocab);
            Assert.True(sparse.Support.Ids.shape[1] < vocab, "the support should be smaller than the vocabulary");

            var dense = zeros(K, N, vocab);
            var present = zeros(K, N, dtype: ScalarType.Bool);
            for (var t = 0; t < K; t++)
            {
                var at = tensor(teachers[t].Positions.Select(p => (long)Array.IndexOf(order, p)).ToArray());
                dense[t].index_copy_(0, at, SupportAssembler.Dense(teachers[t].Rows));
                present[t].index_fill_(0, at, true);
            }
            var goldLogProb = dense.gather(2, tensor(gold).view(1, N, 1).expand(K, N, 1)).squeeze(2).clamp_min(1e-10).log();
            var reference = MixingInput.FromDense(dense, present, goldLogProb, tensor(sequence));

            foreach (var perSequence in new[] { false, true })
            {
                var a = Create(policy, perSequence: perSequence).Mix(sparse);
                var b = Create(policy, perSequence: perSequence).Mix(reference);
                Assert.True(allclose(a.Weights, b.Weights, atol: 1e-5), $"{treatment}: weights differ by {(a.Weights - b.Weights).abs().max().item<float>()}");
                Assert.True(allclose(a.Target.Dense(), b.Target.Dense(), atol: 1e-5), $"{treatment}: targets differ by {(a.Target.Dense() - b.Target.Dense()).abs().max().item<float>()}");
            }
        }
    }
}
