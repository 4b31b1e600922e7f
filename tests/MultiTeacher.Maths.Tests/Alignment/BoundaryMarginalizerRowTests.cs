using MultiTeacher.Alignment;
using MultiTeacher.Mixing;

namespace MultiTeacher.Tests.Alignment;

/// <summary>The boundary marginalisation of projected rows, on rows written out by hand.</summary>
[Trait("Category", TestCategory.Unit)]
public sealed class BoundaryMarginalizerRowTests
{
    private static TopKRows Previous(params (int Id, double P)[] entries) =>
        new(1, entries.Length, entries.Select(e => e.Id).ToArray(), entries.Select(e => (float)Math.Log(e.P)).ToArray(), [(float)(1 - entries.Sum(e => e.P))]);

    [Fact]
    public void AnExtension_TakesItsShareOfTheTwoReadings_AndTheRowAndTailTheRest()
    {
        // Row at p: student 5 ½, student 7 0.3, tail 0.2. One step back: u (1) 0.4, v (2) 0.1 extends u
        // into student token 9, x (3) 0.05 does not. Weights 0.4 : 0.1, so the row keeps 0.8 of itself.
        var row = new ProjectedRows(1, 2, 10, [5, 7], [0.5f, 0.3f], [0.2f]);
        var previous = new PreviousRows(Previous((1, 0.4), (2, 0.1), (3, 0.05)), [1], [42]);

        var result = BoundaryMarginalizer.Apply(row, previous, (w, u, v) => w == 42 && u == 1 && v == 2 ? 9 : -1);

        Assert.Equal(2 + BoundaryMarginalizer.MaxExtensions, result.K);
        Assert.Equal([5, 7, 9], result.Ids[..3]);
        Assert.Equal(0.4f, result.Probs[0], 6);
        Assert.Equal(0.24f, result.Probs[1], 6);
        Assert.Equal(0.2f, result.Probs[2], 6);
        Assert.Equal(0.16f, result.Tail[0], 6);
        Assert.All(result.Probs[3..], p => Assert.Equal(0f, p));
        Assert.Equal(0.2, BoundaryMarginalizer.MeanMoved(result, 2), 6);
        var dense = SupportAssembler.Dense(result).data<float>().ToArray();
        Assert.Equal(0.2f, dense[9], 5);          // the extension joins the support,
        Assert.Equal(0.16f / 7, dense[0], 5);     // and the tail is spread over the 7 tokens outside it
        Assert.Equal(1f, dense.Sum(), 5);
    }

    [Fact]
    public void WithoutAStepBack_OrWithoutTheObservedTokensOwnProbability_TheRowStaysAsItIs()
    {
        var rows = new ProjectedRows(2, 2, 10, [5, 7, 5, 7], [0.5f, 0.3f, 0.6f, 0.4f], [0.2f, 0f]);
        var back = new TopKRows(2, 2, [2, 3, 2, 3], [MathF.Log(0.5f), MathF.Log(0.5f), MathF.Log(0.5f), MathF.Log(0.5f)], [0, 0]);
        // Row 0 has no step back; row 1's observed token 1 is not among the previous row's entries.
        var previous = new PreviousRows(back, [-1, 1], [42, 42]);

        var result = BoundaryMarginalizer.Apply(rows, previous, (_, _, _) => 9);

        Assert.Equal([0.5f, 0.3f], result.Probs[..2]);
        Assert.Equal([0.6f, 0.4f], result.Probs[result.K..(result.K + 2)]);
        Assert.Equal([0.2f, 0f], result.Tail);
        Assert.All(result.Probs.Where((_, i) => i % result.K >= 2), p => Assert.Equal(0f, p));
    }

    [Fact]
    public void Extensions_BeyondTheCap_AreLeftOutOfTheNormaliser()
    {
        var n = BoundaryMarginalizer.MaxExtensions + 6;
        var entries = new[] { (Id: 0, P: 0.3) }.Concat(Enumerable.Range(1, n).Select(i => (Id: i, P: 0.5 / n))).ToArray();
        var row = new ProjectedRows(1, 1, 1000, [5], [1f], [0f]);

        var result = BoundaryMarginalizer.Apply(row, new PreviousRows(Previous(entries), [0], [1]), (_, _, v) => 100 + v);

        var kept = BoundaryMarginalizer.MaxExtensions * 0.5 / n;
        Assert.Equal(0.3 / (0.3 + kept), result.Probs[0], 5);
        Assert.Equal(0.5 / n / (0.3 + kept), result.Probs[1], 5);
        Assert.Equal(100 + BoundaryMarginalizer.MaxExtensions, result.Ids[BoundaryMarginalizer.MaxExtensions]);
        Assert.Equal(1.0, result.Probs.Sum(p => (double)p), 5);
    }

    [Fact]
    public void EveryRow_IsMarginalisedWithItsOwnStepBack_IntoItsOwnColumns()
    {
        // Row 0: u (1) ½, v (2) ½ → student 0; row 1: u (3) ¼, v (4) ¾ → student 7.
        var rows = new ProjectedRows(2, 1, 10, [5, 6], [1f, 0.5f], [0f, 0.5f]);
        var back = new TopKRows(2, 2, [1, 2, 3, 4], [MathF.Log(0.5f), MathF.Log(0.5f), MathF.Log(0.25f), MathF.Log(0.75f)], [0, 0]);

        var result = BoundaryMarginalizer.Apply(rows, new PreviousRows(back, [1, 3], [42, 43]), (_, _, v) => v == 2 ? 0 : v == 4 ? 7 : -1);

        var w = result.K;
        Assert.Equal([5, 0], result.Ids[..2]);
        Assert.Equal([0.5f, 0.5f], result.Probs[..2]);
        Assert.Equal([6, 7], result.Ids[w..(w + 2)]);
        Assert.Equal([0.125f, 0.75f], result.Probs[w..(w + 2)]);
        Assert.Equal([0f, 0.125f], result.Tail);
        Assert.Equal(0.625, BoundaryMarginalizer.MeanMoved(result, 1), 6);   // (½ + ¾) / 2
    }
}
