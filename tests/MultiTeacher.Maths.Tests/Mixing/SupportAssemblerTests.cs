using MultiTeacher.Alignment;
using MultiTeacher.Mixing;
using static TorchSharp.torch;

namespace MultiTeacher.Tests.Mixing;

/// <summary>The sparse mixing input against the documented densification written out as plain loops.</summary>
[Trait("Category", TestCategory.Unit)]
public class SupportAssemblerTests
{
    /// <summary>
    /// One projected row as a full distribution: entries of the same student token add up; the tail is
    /// spread evenly over every token outside the row's support, or, when the support is the whole
    /// vocabulary, the entries are divided by 1 − tail.
    /// </summary>
    private static double[] NaiveDense(ProjectedRows rows, int r)
    {
        var v = rows.StudentVocabSize;
        var dense = new double[v];
        var inSupport = new bool[v];
        for (var i = r * rows.K; i < (r + 1) * rows.K; i++)
            if (rows.Probs[i] > 0) { dense[rows.Ids[i]] += rows.Probs[i]; inSupport[rows.Ids[i]] = true; }
        var size = inSupport.Count(x => x);
        for (var t = 0; t < v; t++)
            if (size == v) dense[t] /= Math.Max(1e-12, 1 - rows.Tail[r]);
            else if (!inSupport[t]) dense[t] = rows.Tail[r] / (v - size);
        return dense;
    }

    [Fact]
    public void NoAlignedPosition_AssemblesAnEmptyInput()
    {
        // A teacher with no row (a text too short for any common boundary): nothing to mix, no error.
        var rows = new ProjectedRows(0, 4, 5, [], [], []);
        using var scope = NewDisposeScope();
        var input = SupportAssembler.Assemble([new TeacherRows([], rows)], [], [], [], 5);
        Assert.Equal([1L, 0L, 1L], input.Values.shape);
        Assert.Equal(0, input.Present.sum().item<long>());
    }

    [Fact]
    public void DuplicateIdsAddUp_AndTheTailSpreadsOverTheRest_ByHand()
    {
        // Vocabulary 5; entries (token 1: 0.3), (token 3: 0.2), (token 1: 0.1), a zero entry on token 4, tail 0.4.
        // Token 1 gets 0.4, token 3 0.2; the other three tokens (0, 2, 4) share the tail: 0.4 / 3 each.
        var rows = new ProjectedRows(1, 4, 5, [1, 3, 1, 4], [0.3f, 0.2f, 0.1f, 0f], [0.4f]);
        var dense = SupportAssembler.Dense(rows).data<float>().ToArray();
        Assert.Equal(new[] { 0.4f / 3, 0.4f, 0.4f / 3, 0.2f, 0.4f / 3 }, dense, new FloatTolerance(1e-6f));
    }

    [Fact]
    public void FullSupportRow_IsRescaledInsteadOfSpreadingItsTail_ByHand()
    {
        // Every one of 3 tokens listed with 0.3, 0.3, 0.2 and tail 0.2: divide by 0.8 → 0.375, 0.375, 0.25.
        var rows = new ProjectedRows(1, 3, 3, [2, 0, 1], [0.3f, 0.2f, 0.3f], [0.2f]);
        var dense = SupportAssembler.Dense(rows).data<float>().ToArray();
        Assert.Equal(new[] { 0.25f, 0.375f, 0.375f }, dense, new FloatTolerance(1e-6f));
    }

    [Theory]
    [InlineData(TailTreatment.Bucket)]
    [InlineData(TailTreatment.Renormalize)]
    public void AssembledInput_MatchesTheNaiveDensification(TailTreatment treatment)
    {
        using var scope = NewDisposeScope();
        const int vocab = 30;
        var (teachers, order, gold) = MixingPolicyTests.RandomRows(19, vocab, k: 5, treatment);
        var sequence = order.Select(p => p / 9).ToArray();
        var input = SupportAssembler.Assemble(teachers, order, gold, sequence, vocab);
        var (k, n) = (teachers.Length, order.Length);
        var dense = input.Dense().data<float>().ToArray();
        var present = input.Present.data<bool>().ToArray();
        var goldLogProb = input.GoldLogProb!.data<float>().ToArray();
        var outside = input.Support.Outside.data<float>().ToArray();
        var ids = input.Support.Ids.data<long>().ToArray();
        var valid = input.Support.Valid.data<bool>().ToArray();
        var m = (int)input.Support.Ids.shape[1];
        Assert.Equal(sequence, input.Sequence!.data<long>().ToArray());
        for (var p = 0; p < n; p++)
        {
            var union = new HashSet<long>();
            for (var t = 0; t < k; t++)
            {
                var r = Array.IndexOf(teachers[t].Positions, order[p]);
                Assert.Equal(r >= 0, present[t * n + p]);
                if (r < 0) { Assert.All(dense.AsSpan((t * n + p) * vocab, vocab).ToArray(), x => Assert.Equal(0, x)); continue; }
                var rows = teachers[t].Rows;
                for (var i = r * rows.K; i < (r + 1) * rows.K; i++) if (rows.Probs[i] > 0) union.Add(rows.Ids[i]);
                var expected = NaiveDense(rows, r);
                for (var v = 0; v < vocab; v++)
                    Assert.True(Math.Abs(dense[(t * n + p) * vocab + v] - expected[v]) < 1e-6, $"{treatment} teacher {t} position {p} token {v}");
                Assert.Equal(Math.Log(Math.Max(expected[gold[p]], 1e-10)), goldLogProb[t * n + p], 4);
            }
            // The support is the union of the present teachers' supports, each token once; padding slots are not valid.
            var slots = Enumerable.Range(0, m).Where(j => valid[p * m + j]).Select(j => ids[p * m + j]).ToList();
            Assert.Equal(union.Order(), slots.Order());
            Assert.Equal(vocab - union.Count, outside[p]);
        }
    }

    [Fact]
    public void SupportDense_WritesEachValueAtItsToken_AndTheRestEverywhereElse()
    {
        using var scope = NewDisposeScope();
        // One position, vocabulary 6, support {4, 1} plus a padding slot: values (0.5, 0.2), rest 0.075 on the other 4 tokens.
        var support = new Support(tensor(new long[] { 4, 1, 0 }).unsqueeze(0), tensor(new[] { true, true, false }).unsqueeze(0), tensor(new float[] { 4 }), 6);
        var dense = support.Dense(tensor(new[] { 0.5f, 0.2f, 0.9f }).unsqueeze(0), tensor(new[] { 0.075f })).data<float>().ToArray();
        Assert.Equal(new[] { 0.075f, 0.2f, 0.075f, 0.075f, 0.5f, 0.075f }, dense, new FloatTolerance(1e-7f));
        var full = Support.Full(2, 3);
        Assert.Equal(new long[] { 0, 1, 2, 0, 1, 2 }, full.Ids.data<long>().ToArray());
        Assert.Equal(new float[] { 0, 0 }, full.Outside.data<float>().ToArray());
        Assert.True(full.Valid.all().item<bool>());
    }
}
