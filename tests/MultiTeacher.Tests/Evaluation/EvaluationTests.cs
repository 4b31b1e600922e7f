using MultiTeacher.Evaluation;
using MultiTeacher.Tests.Models;

namespace MultiTeacher.Tests.Evaluation;

[Trait("Category", TestCategory.Unit)]
public class EvaluationTests
{
    [Fact]
    public void MeanInterval_MatchesTheStudentTFormula()
    {
        // mean 3, sd √2.5, t(0.975, 4) = 2.776445: half-width 2.776445 · 1.581139 / √5 = 1.963243.
        var i = Confidence.Mean([1, 2, 3, 4, 5]);
        Assert.Equal(3, i.Mean, 12);
        Assert.Equal(3 - 1.963243, i.Low, 5);
        Assert.Equal(3 + 1.963243, i.High, 5);
        Assert.Equal(5, i.Count);
    }

    [Fact]
    public void PairedDifference_GivesThePairedTTest()
    {
        // Differences 0.1, 0.3, 0.2, 0.4: mean 0.25, sd 0.129099, t = 3.872983 on 3 degrees of freedom, two-sided p = 0.030466.
        var d = Confidence.Paired([1.1, 2.3, 3.2, 4.4], [1.0, 2.0, 3.0, 4.0]);
        Assert.Equal(0.25, d.Mean, 9);
        Assert.Equal(0.030466, d.PValue, 5);
        Assert.True(d.Low > 0 && d.High > d.Mean);
        Assert.Equal(0, d.Lower);
        Assert.Throws<ArgumentException>(() => Confidence.Paired([1, 2], [1]));
    }

    [Fact]
    public void PerDocumentScores_AddUpToTheCorpusFigure_WeightedByBytes()
    {
        var tokenizer = TestAssets.Tokenizer("mistral-7b-v0.1");
        using var model = TinyModels.Create(TinyModels.Config("mistral", vocab: 32000));
        string[] docs = ["The jury said it did find that many of Georgia's laws are outmoded.", "A second text, shorter.", "And a third one, to be sure it adds up."];
        var each = BitsPerByte.PerDocument(model, tokenizer, docs, window: 8);
        var all = BitsPerByte.Evaluate(model, tokenizer, docs, window: 8, maxBytes: long.MaxValue);
        Assert.Equal(all.Bytes, each.Sum(r => r.Bytes));
        Assert.Equal(all.BitsPerByte, each.Sum(r => r.BitsPerByte * r.Bytes) / all.Bytes, 5);
    }
}
