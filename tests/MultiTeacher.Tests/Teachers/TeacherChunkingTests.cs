using MultiTeacher.Cache;
using MultiTeacher.Models;
using MultiTeacher.Teachers;
using static TorchSharp.torch;

namespace MultiTeacher.Tests.Teachers;

/// <summary>
/// Records reduced a few positions at a time equal those reduced from the whole batch's (B, T, V)
/// log-probabilities. Every reduction (log-softmax, top-k, gather, logsumexp) works within a row,
/// but the head's matmul over fewer rows may take another BLAS kernel, which sums each row's
/// hidden-size dot product in another order: rows then differ by float rounding, so values are
/// compared within <see cref="Rounding"/> (1e-5 nat; observed differences are about 1e-6), and a
/// top-k entry may trade places only with one whose log-probability is that close.
/// </summary>
[Trait("Category", TestCategory.Unit)]
public sealed class TeacherChunkingTests
{
    private const double Rounding = 1e-5;

    public static TheoryData<string, int> Cases() => new()
    {
        { "llama", 1 }, { "llama", 7 }, { "mistral", 5 }, { "qwen2", 16 }, { "qwen3", 3 }, { "qwen3-default-head-dim", 1000 },
    };

    private static int[][] Sequences(int vocab)
    {
        var rng = new Random(3);
        return [.. new[] { 23, 9, 1, 40 }.Select(n => Enumerable.Range(0, n).Select(_ => rng.Next(vocab)).ToArray())];
    }

    [Theory, MemberData(nameof(Cases))]
    public void TopKRecords_InChunks_EqualTheWholeBatchsTopK_WithinRounding(string fixture, int chunk)
    {
        using var model = PretrainedModel.Load(TestAssets.FixturePath("models", fixture));
        var sequences = Sequences(model.Config.VocabSize);
        const int k = 16;

        var chunked = TeacherRecords.Compute(model, sequences, k, chunk);

        using var scope = NewDisposeScope();
        var whole = TeacherForward.LogProbs(model, sequences);                               // (B, T, V)
        var (values, indices) = whole.topk(k, dim: -1);
        for (var b = 0; b < sequences.Length; b++)
            for (var t = 0; t < sequences[b].Length; t++)
            {
                var v = values[b, t].data<float>().ToArray();
                var ids = indices[b, t].to(ScalarType.Int32).data<int>().ToArray();
                var row = whole[b, t].data<float>().ToArray();
                for (var c = 0; c < k; c++)
                {
                    Assert.Equal(v[c], chunked.LogProbs(b, t)[c], Rounding);
                    Assert.Equal(row[chunked.Ids(b, t)[c]], chunked.LogProbs(b, t)[c], Rounding);
                    if (ids[c] != chunked.Ids(b, t)[c]) Assert.True(Math.Abs(v[c] - row[chunked.Ids(b, t)[c]]) < Rounding, $"({b}, {t}) slot {c}: {ids[c]} against {chunked.Ids(b, t)[c]}");
                }
                Assert.Equal(Math.Max(0, 1 - v.Sum(x => Math.Exp(x))), chunked.Tail(b, t), Rounding);
            }
    }

    [Theory, MemberData(nameof(Cases))]
    public void AlmRecords_InChunks_EqualThoseOfTheWholeBatch_WithinRounding(string fixture, int chunk)
    {
        using var model = PretrainedModel.Load(TestAssets.FixturePath("models", fixture));
        var sequences = Sequences(model.Config.VocabSize);
        using var mask = arange(model.Config.VocabSize).remainder(3).eq(0);                // every third token starts a word

        var chunked = AlmCaches.Records(model, sequences, mask, chunk);

        using var scope = NewDisposeScope();
        var whole = AlmRecords.FromLogProbs(TeacherForward.LogProbs(model, sequences), sequences, mask);
        Assert.Equal(whole.Length, chunked.Length);
        for (var b = 0; b < whole.Length; b++)
            for (var t = 0; t < whole[b].Length; t++)
            {
                Assert.Equal(whole[b][t].ObservedLogProb, chunked[b][t].ObservedLogProb, Rounding);
                Assert.Equal(whole[b][t].BoundaryLogMass, chunked[b][t].BoundaryLogMass, Rounding);
            }
    }

    [Fact]
    public void Chunks_NeverHoldMoreThanTheirPositions_AndSkipThePadding()
    {
        using var model = PretrainedModel.Load(TestAssets.FixturePath("models", "llama"));
        var sequences = Sequences(model.Config.VocabSize);
        var seen = new List<long>();
        TeacherForward.Chunks(model, sequences, 6, (flat, logProbs) =>
        {
            Assert.Equal([flat.Length, model.Config.VocabSize], logProbs.shape);
            Assert.InRange(flat.Length, 1, 6);
            seen.AddRange(flat);
        });
        var expected = sequences.SelectMany((s, b) => Enumerable.Range(0, s.Length).Select(t => b * 40L + t));
        Assert.Equal(expected, seen);
    }
}
