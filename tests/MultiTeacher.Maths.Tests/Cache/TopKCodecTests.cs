using MultiTeacher.Cache;

namespace MultiTeacher.Tests.Cache;

/// <summary>The lossy top-k quantiser against worked examples and a naive full-vocabulary KL.</summary>
[Trait("Category", TestCategory.Unit)]
public class TopKCodecTests
{
    /// <summary>
    /// Both sides densified over the whole vocabulary with plain loops: listed entries as given (the
    /// decoded ones renormalised with their tail), each tail spread evenly over the unlisted tokens.
    /// </summary>
    private static double NaiveKl(int[] ids, float[] logProbs, float tail, CachedPosition decoded, int vocab)
    {
        var p = new double[vocab];
        var q = new double[vocab];
        for (var v = 0; v < vocab; v++) p[v] = tail / (vocab - ids.Length);
        for (var i = 0; i < ids.Length; i++) p[ids[i]] = Math.Exp(logProbs[i]);
        var z = decoded.Tail + decoded.LogProbs.Sum(lp => Math.Exp(lp));
        for (var v = 0; v < vocab; v++) q[v] = decoded.Tail / (vocab - decoded.Ids.Length) / z;
        for (var i = 0; i < decoded.Ids.Length; i++) q[decoded.Ids[i]] = Math.Exp(decoded.LogProbs[i]) / z;
        double kl = 0;
        for (var v = 0; v < vocab; v++) if (p[v] > 0) kl += p[v] * Math.Log(p[v] / q[v]);
        return kl;
    }

    /// <summary>What keeping the n most likely entries decodes to, by the codec's documented rules written out again.</summary>
    private static CachedPosition Prefix(int[] ids, float[] logProbs, float tail, int n, int vocab)
    {
        var order = Enumerable.Range(0, ids.Length).OrderByDescending(i => logProbs[i]).ThenBy(i => ids[i]).ToArray();
        var levels = order.Take(n).Select(i => Math.Clamp((int)Math.Round(Math.Sqrt(Math.Exp(logProbs[i])) * 256), 1, 256)).ToArray();
        var rest = tail + order.Skip(n).Sum(i => Math.Exp(logProbs[i]));
        var tailLevel = vocab - n <= 0 || rest <= 0 ? 0 : Math.Clamp((int)Math.Round(Math.Sqrt(Math.Min(1, rest)) * 4096), 1, 4096);
        return TopKCodec.Dequantize(new QuantizedPosition(order.Take(n).Select(i => ids[i]).ToArray(), levels, tailLevel));
    }

    private static (int[] Ids, float[] LogProbs, float Tail) Random(Random rng, int vocab, int k, double sharpness)
    {
        var ids = Enumerable.Range(0, vocab).OrderBy(_ => rng.Next()).Take(k).ToArray();
        var w = Enumerable.Range(1, k).Select(r => Math.Pow(r, -sharpness) * Math.Exp(rng.NextDouble() * 0.5)).ToArray();
        var tail = rng.NextDouble() < 0.2 ? 0 : rng.NextDouble() * 0.3;
        return (ids, w.Select(x => (float)Math.Log(x / w.Sum() * (1 - tail))).ToArray(), (float)tail);
    }

    [Fact]
    public void Dequantize_SquaresLevels_AndRenormalisesWithTheTail_ByHand()
    {
        // Levels 128 and 64 of 256: (1/2)² = 0.25 and (1/4)² = 0.0625; tail level 2048 of 4096: 0.25.
        // z = 0.5625, so log(0.25/0.5625) = ln(4/9), log(0.0625/0.5625) = ln(1/9), tail 4/9.
        var d = TopKCodec.Dequantize(new QuantizedPosition([7, 3], [128, 64], 2048));
        Assert.Equal([7, 3], d.Ids);
        Assert.Equal(Math.Log(4.0 / 9), d.LogProbs[0], 6);
        Assert.Equal(Math.Log(1.0 / 9), d.LogProbs[1], 6);
        Assert.Equal(4.0 / 9, d.Tail, 6);
    }

    [Fact]
    public void Quantize_KeepsEntriesMostLikelyFirst_WithSquareRootLevels_ByHand()
    {
        // p = 0.49, 0.36, 0.15 over a vocabulary of 4, nothing on the fourth token: √p·256 = 179.2, 153.6, 99.1 → 179, 154, 99.
        // Dropping any entry moves its mass onto a token it does not belong to, far over the budget, so all three stay.
        var q = TopKCodec.Quantize([4, 1, 2], [MathF.Log(0.36f), MathF.Log(0.49f), MathF.Log(0.15f)], 0, vocab: 4);
        Assert.Equal([1, 4, 2], q.Ids);
        Assert.Equal([179, 154, 99], q.Levels);
        Assert.Equal(0, q.TailLevel);
    }

    [Fact]
    public void Quantize_BreaksTiesByTokenId_AndClampsTinyProbabilitiesToLevelOne()
    {
        // Two entries of 0.4 and one of 1e-9 (√1e-9·256 ≈ 0.008 rounds to 0, clamped to 1) in a vocabulary of 4.
        var q = TopKCodec.Quantize([3, 2, 1], [MathF.Log(0.4f), MathF.Log(0.4f), MathF.Log(1e-9f)], 0.2f - 1e-9f, vocab: 4);
        Assert.Equal(2, q.Ids[0]);
        Assert.Equal(3, q.Ids[1]);
        Assert.True(q.Ids.Length == 2 || q.Levels[2] == 1, $"levels {string.Join(",", q.Levels)}");
    }

    [Fact]
    public void TailOnlyDistribution_DropsNothingAndKeepsItsTail()
    {
        // One listed token of probability 0.5 and 0.5 spread over the other 9: KL of the decoded form is tiny.
        var q = TopKCodec.Quantize([0], [MathF.Log(0.5f)], 0.5f, vocab: 10);
        Assert.Equal([0], q.Ids);
        Assert.Equal([181], q.Levels);        // √0.5·256 = 181.02
        Assert.Equal(2896, q.TailLevel);      // √0.5·4096 = 2896.3
    }

    [Fact]
    public void Kl_MatchesTheNaiveFullVocabularyKl()
    {
        var rng = new Random(5);
        for (var i = 0; i < 200; i++)
        {
            var (ids, lp, tail) = Random(rng, vocab: 40, k: 12, sharpness: 0.5 + rng.NextDouble() * 2);
            var n = rng.Next(1, 13);
            var decoded = Prefix(ids, lp, tail, n, 40);
            var expected = NaiveKl(ids, lp, tail, decoded, 40);
            Assert.True(Math.Abs(TopKCodec.Kl(ids, lp, tail, decoded, 40) - expected) < 1e-9 + 1e-6 * expected, $"case {i}, n={n}");
        }
    }

    [Fact]
    public void Kl_CountsTokensTheDecoderListsOutsideTheExactTopK_ByHand()
    {
        // Vocabulary of 4. Exact: 0 → 0.5, 1 → 0.3, tail 0.2 spread as 0.1 on tokens 2 and 3.
        // Decoded: 0 → 0.6, 2 → 0.2, tail 0.2 spread as 0.1 on tokens 1 and 3 (already summing to one).
        // KL = 0.5 ln(0.5/0.6) + 0.3 ln(0.3/0.1) + 0.1 ln(0.1/0.2) + 0.1 ln(0.1/0.1) = 0.1691082.
        var decoded = new CachedPosition([0, 2], [MathF.Log(0.6f), MathF.Log(0.2f)], 0.2f);
        var kl = TopKCodec.Kl([0, 1], [MathF.Log(0.5f), MathF.Log(0.3f)], 0.2f, decoded, vocab: 4);
        Assert.Equal(0.5 * Math.Log(0.5 / 0.6) + 0.3 * Math.Log(3) + 0.1 * Math.Log(0.5), kl, 1e-6);
        Assert.Equal(0.1691082, kl, 1e-6);
    }

    [Fact]
    public void AnEntryOfProbabilityZero_AddsNothingToTheKl_AndIsNotKept()
    {
        // Exact: 0 → 0.8, 1 → 0 (log-probability -∞), tail 0.2 on tokens 2 and 3. Decoded: 0 → 0.8 and
        // the tail 0.2 over tokens 1, 2, 3. KL = 0.8 ln 1 + 0 + 2 · 0.1 ln(0.1 / (0.2/3)) = 0.2 ln 1.5.
        var decoded = new CachedPosition([0], [MathF.Log(0.8f)], 0.2f);
        Assert.Equal(0.2 * Math.Log(1.5), TopKCodec.Kl([0, 1], [MathF.Log(0.8f), float.NegativeInfinity], 0.2f, decoded, vocab: 4), 1e-6);

        // Keeping 0 → 0.6 and 1 → 0.3 at levels round(√0.6 · 256) = 198 and round(√0.3 · 256) = 140, with the
        // tail 0.1 at level round(√0.1 · 4096) = 1295 spread over 9998 tokens instead of 9997, costs about
        // 1.4e-5 nats, within the budget; keeping only token 0 costs far more. The zero entry joins the tail.
        var q = TopKCodec.Quantize([0, 1, 2], [MathF.Log(0.6f), MathF.Log(0.3f), float.NegativeInfinity], 0.1f, vocab: 10000);
        Assert.Equal([0, 1], q.Ids);
        Assert.Equal([198, 140], q.Levels);
        Assert.Equal(1295, q.TailLevel);
    }

    [Fact]
    public void Quantize_KeepsTheShortestPrefixWithinTheBudget_ByTheNaiveKl()
    {
        var rng = new Random(8);
        var shortened = 0;
        for (var i = 0; i < 300; i++)
        {
            const int vocab = 60, k = 16;
            var (ids, lp, tail) = Random(rng, vocab, k, sharpness: 0.3 + rng.NextDouble() * 3);
            var q = TopKCodec.Quantize(ids, lp, tail, vocab);
            var n = q.Ids.Length;
            var expected = Prefix(ids, lp, tail, n, vocab);
            var decoded = TopKCodec.Dequantize(q);
            Assert.Equal(expected.Ids, decoded.Ids);
            Assert.Equal(expected.LogProbs, decoded.LogProbs);
            Assert.Equal(expected.Tail, decoded.Tail);
            var kl = NaiveKl(ids, lp, tail, decoded, vocab);
            var klOf = Enumerable.Range(1, k).Select(m => NaiveKl(ids, lp, tail, Prefix(ids, lp, tail, m, vocab), vocab)).ToArray();
            if (kl <= TopKCodec.KlBudget * (1 + 1e-6))
                for (var m = 1; m < n; m++) Assert.True(klOf[m - 1] > TopKCodec.KlBudget * (1 - 1e-6), $"case {i}: {m} entries already fit ({klOf[m - 1]})");
            else
                Assert.True(klOf.All(x => x >= kl * (1 - 1e-6)), $"case {i}: nothing fits, but {n} entries are not the best ({kl} vs {klOf.Min()})");
            if (n < k) shortened++;
        }
        Assert.InRange(shortened, 30, 300);
    }
}
