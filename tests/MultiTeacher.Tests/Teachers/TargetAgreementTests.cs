using MultiTeacher.Alignment;
using MultiTeacher.Models;
using MultiTeacher.Teachers;
using MultiTeacher.Tests.Models;
using static TorchSharp.torch;

namespace MultiTeacher.Tests.Teachers;

[Trait("Category", TestCategory.Unit)]
public sealed class TargetAgreementTests
{
    private static readonly string[] Texts = TargetQualityTests.Texts;

    [Fact]
    public void Sums_OfOneRow_AreTheHandComputedBits()
    {
        // same P = (½, ½, 0), foreign Q = (0, ¼, ¾), student R = (½, ⅛, ⅜), gold token 1.
        using var p = tensor(new[] { 0.5, 0.5, 0 }).reshape(1, 3);
        using var q = tensor(new[] { 0, 0.25, 0.75 }).reshape(1, 3);
        using var r = tensor(new[] { 0.5, 0.125, 0.375 }).reshape(1, 3);

        var a = TargetAgreement.Sums(p, q, r, [1], goldMapped: 1);

        Assert.Equal((1.0, 2.0, 3.0), a.Gold);                           // −log₂ ½, −log₂ ¼, −log₂ ⅛
        Assert.Equal(1.0, a.Entropy.Same, 9);                              // H(P)
        Assert.Equal(0.5 + 0.75 * Math.Log2(4.0 / 3), a.Entropy.Foreign, 9);   // H(Q) = ¼·2 + ¾·log₂(4/3)
        Assert.Equal(0.75, a.TotalVariation, 9);                           // ½(½ + ¼ + ¾)
        // JSD = H(M) − (H(A) + H(B)) / 2 with M the midpoint: M(P, Q) = (¼, ⅜, ⅜).
        var hQ = a.Entropy.Foreign;
        var hR = 0.5 + 0.125 * 3 + 0.375 * Math.Log2(8.0 / 3);
        Assert.Equal(0.25 * 2 + 2 * 0.375 * Math.Log2(8.0 / 3) - (1 + hQ) / 2, a.JensenShannon.Twins, 9);
        Assert.Equal(0.5 + 0.3125 * Math.Log2(1 / 0.3125) + 0.1875 * Math.Log2(1 / 0.1875) - (1 + hR) / 2, a.JensenShannon.SameStudent, 9);   // M(P, R) = (½, 5/16, 3/16)
        Assert.Equal(0.25 * 2 + 0.1875 * Math.Log2(1 / 0.1875) + 0.5625 * Math.Log2(1 / 0.5625) - (hQ + hR) / 2, a.JensenShannon.ForeignStudent, 9);   // M(Q, R) = (¼, 3/16, 9/16)
        Assert.Equal(0.6556390622, a.JensenShannon.Twins, 9);
        Assert.Equal(1, a.Positions);
        Assert.Equal(1, a.GoldMapped);
        Assert.Equal(1, a.GoldReached);
    }

    [Fact]
    public void AGoldTheForeignTargetCannotReach_IsLeftOutOfEveryGoldSum_AndCounted()
    {
        // Row 0 as above (gold 1); row 1 the same distributions with gold 0, where Q has no mass.
        using var p = tensor(new[] { 0.5, 0.5, 0, 0.5, 0.5, 0 }).reshape(2, 3);
        using var q = tensor(new[] { 0, 0.25, 0.75, 0, 0.25, 0.75 }).reshape(2, 3);
        using var r = tensor(new[] { 0.5, 0.125, 0.375, 0.5, 0.125, 0.375 }).reshape(2, 3);

        var a = TargetAgreement.Sums(p, q, r, [1, 0], goldMapped: 0);

        Assert.Equal(2, a.Positions);
        Assert.Equal(1, a.GoldReached);
        Assert.Equal((1.0, 2.0, 3.0), a.Gold);
        Assert.Equal((1.0, 2.0, 3.0), a.GoldMean);
        Assert.Equal(1.5, a.TotalVariation, 9);           // 0.75 on each row, summed
        Assert.Equal(0.75, a.Mean(a.TotalVariation), 9);
    }

    [Fact]
    public void ATeacherComparedWithItself_AgreesEverywhere()
    {
        var tokenizer = TestAssets.Tokenizer("mistral-7b-v0.1");
        using var teacher = TinyModels.Create(TinyModels.Config("mistral", vocab: 32000), seed: 5);
        using var student = TinyModels.Create(TinyModels.Config("mistral", vocab: 32000), seed: 6);
        var identity = VocabularyProjection.Build(tokenizer, tokenizer, ProjectionMethod.FirstToken);

        var a = TargetAgreement.Measure(teacher, teacher, tokenizer, identity, student, tokenizer, Texts, maxStudentTokens: 64);

        Assert.Equal(Texts.Sum(t => tokenizer.Encode(t).Count - 1), a.Positions);
        Assert.Equal(a.Positions, a.GoldMapped);
        Assert.Equal(a.Positions, a.GoldReached);
        Assert.Equal(a.Gold.Same, a.Gold.Foreign, 6);
        Assert.Equal(0, a.TotalVariation, 6);
        Assert.Equal(0, a.JensenShannon.Twins, 6);
        Assert.Equal(a.JensenShannon.SameStudent, a.JensenShannon.ForeignStudent, 6);
        Assert.True(a.Mean(a.JensenShannon.SameStudent) > 1e-4, "two different models differ");
    }

    [Theory]
    [InlineData("llama3", "llama", 128256)]
    [InlineData("qwen3", "qwen3", 151936)]   // Qwen pads its embedding past the tokenizer's 151,669 ids: those rows' mass is dropped
    public void ForeignTeacher_MatchesANaiveProjectionOfItsWholeSoftmax(string family, string modelType, int vocab)
    {
        var student = TestAssets.Tokenizer("mistral-7b-v0.1");
        var foreignTokenizer = TestAssets.Tokenizer(family);
        using var same = TinyModels.Create(TinyModels.Config("mistral", vocab: 32000), seed: 5);
        using var foreign = TinyModels.Create(TinyModels.Config(modelType, vocab: vocab), seed: 7);
        using var studentModel = TinyModels.Create(TinyModels.Config("mistral", vocab: 32000), seed: 6);
        var projection = VocabularyProjection.Build(foreignTokenizer, student, ProjectionMethod.FirstToken);

        var a = TargetAgreement.Measure(same, foreign, foreignTokenizer, projection, studentModel, student, Texts, maxStudentTokens: 64);

        // Naive: loop over every foreign id, add its probability to the student id it maps to, then
        // total variation and the gold's bits position by position.
        long positions = 0, mapped = 0, reached = 0;
        double tv = 0, goldForeign = 0;
        foreach (var text in Texts)
        {
            var (s, f) = (student.Encode(text), foreignTokenizer.Encode(text));
            var alignment = SequenceAligner.Align(s, student, f, foreignTokenizer);
            var ps = Softmax(same, s.Ids);
            var pf = Softmax(foreign, f.Ids);
            for (var j = 0; j < alignment.Positions; j++)
            {
                var t = alignment.TeacherPosition[j];
                if (t < 0) continue;
                positions++;
                if (projection.Map[f.Ids[t + 1]] == s.Ids[j + 1]) mapped++;
                var q = new double[32000];
                for (var id = 0; id < vocab; id++)
                    if (id < projection.Map.Length && projection.Map[id] >= 0) q[projection.Map[id]] += pf[t][id];
                tv += Enumerable.Range(0, 32000).Sum(v => Math.Abs(ps[j][v] - q[v])) / 2;
                if (q[s.Ids[j + 1]] == 0) continue;
                reached++;
                goldForeign -= Math.Log2(q[s.Ids[j + 1]]);
            }
        }
        Assert.Equal(positions, a.Positions);
        Assert.True(a.Positions < Texts.Sum(t => student.Encode(t).Count - 1), "positions inside a foreign token are left out");
        Assert.Equal(mapped, a.GoldMapped);
        Assert.Equal(reached, a.GoldReached);
        Assert.Equal(tv, a.TotalVariation, 3);
        Assert.Equal(goldForeign, a.Gold.Foreign, 2);
    }

    private static double[][] Softmax(CausalLM model, int[] ids)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var probs = nn.functional.softmax(model.forward(tensor(ids.Select(i => (long)i).ToArray()).unsqueeze(0)).to(float64), -1)[0];
        return Enumerable.Range(0, ids.Length).Select(j => probs[j].data<double>().ToArray()).ToArray();
    }
}
