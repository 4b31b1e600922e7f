using MultiTeacher.Alignment;
using MultiTeacher.Teachers;
using MultiTeacher.Models;
using MultiTeacher.Tests.Models;
using static TorchSharp.torch;

namespace MultiTeacher.Tests.Teachers;

[Trait("Category", TestCategory.Unit)]
public sealed class TargetQualityTests
{
    /// <summary>Two Brown press sentences, the texts targets are measured on here and in <see cref="TargetAgreementTests"/>.</summary>
    internal static readonly string[] Texts =
    [
        "The Fulton County Grand Jury said Friday an investigation of Atlanta's recent primary election produced no evidence.",
        "The jury further said in term-end presentments that the City Executive Committee deserves the praise of the city.",
    ];

    [Theory]
    [InlineData(1)]
    [InlineData(8)]
    public void SameTokenizer_TargetBitsAreTheTopKWithItsTailSpreadEvenly_AndStudentBitsItsOwnCe(int k)
    {
        var tokenizer = TestAssets.Tokenizer("mistral-7b-v0.1");
        using var teacher = Sharpened(TinyModels.Create(TinyModels.Config("mistral", vocab: 32000), seed: 5));
        using var student = TinyModels.Create(TinyModels.Config("mistral", vocab: 32000), seed: 6);
        var identity = VocabularyProjection.Build(tokenizer, tokenizer, ProjectionMethod.FirstToken);

        var measured = TargetQuality.Measure(AsTeacher(teacher, tokenizer, identity), k, student, tokenizer, Texts, maxStudentTokens: 64);

        // Naive: full log-softmax of both models; the gold's target probability is its own if it is
        // among the teacher's k largest, else (1 − their mass) / (V − k).
        double target = 0, own = 0;
        long positions = 0;
        foreach (var text in Texts)
        {
            using var scope = NewDisposeScope();
            var ids = tokenizer.EncodeToIds(text);
            var input = tensor(ids.Select(i => (long)i).ToArray()).unsqueeze(0);
            double[] LogProbs(CausalLM m) { using var _ = no_grad(); return nn.functional.log_softmax(m.forward(input).to(float64), -1).data<double>().ToArray(); }
            var (lt, ls) = (LogProbs(teacher), LogProbs(student));
            const int v = 32000;
            for (var j = 0; j + 1 < ids.Length; j++, positions++)
            {
                var gold = ids[j + 1];
                var row = lt.AsSpan(j * v, v).ToArray();
                var top = Enumerable.Range(0, v).OrderByDescending(i => row[i]).Take(k).ToArray();
                var p = top.Contains(gold) ? Math.Exp(row[gold]) : (1 - top.Sum(i => Math.Exp(row[i]))) / (v - k);
                target -= Math.Log2(p);
                own -= ls[j * v + gold] / Math.Log(2);
            }
        }
        Assert.Equal(positions, measured.Positions);
        Assert.True(Math.Abs(target / positions - Math.Log2(32000)) > 1, $"the target gives {target / positions:F2} bits per token, as a uniform guess would (14.97)");
        Assert.Equal(target / positions, measured.TargetBitsPerToken, 3);
        Assert.Equal(own / positions, measured.StudentBitsPerToken, 3);
    }

    /// <summary>Random tiny models predict almost uniformly; a scaled head makes each position's top-k differ from the rest.</summary>
    private static CausalLM Sharpened(CausalLM model)
    {
        using var _ = no_grad();
        model.named_parameters().Single(p => p.name == "lm_head.weight").parameter.mul_(6);
        return model;
    }

    [Fact]
    public void ForeignTeacher_IsScoredOnlyWhereAligned_WithProjectedEntriesAddingUp()
    {
        var student = TestAssets.Tokenizer("mistral-7b-v0.1");
        var teacherTokenizer = TestAssets.Tokenizer("llama3");
        using var teacher = TinyModels.Create(TinyModels.Config("llama", vocab: 128256), seed: 5);
        using var studentModel = TinyModels.Create(TinyModels.Config("mistral", vocab: 32000), seed: 6);
        var projection = VocabularyProjection.Build(teacherTokenizer, student, ProjectionMethod.FirstToken);

        var measured = TargetQuality.Measure(AsTeacher(teacher, teacherTokenizer, projection), 16, studentModel, student, Texts, maxStudentTokens: 64);

        var aligned = Texts.Sum(t => (long)SequenceAligner.Align(student.Encode(t), student, teacherTokenizer.Encode(t), teacherTokenizer).Aligned);
        Assert.Equal(aligned, measured.Positions);
        Assert.True(measured.Positions < Texts.Sum(t => student.Encode(t).Count - 1));
        Assert.InRange(measured.TargetBitsPerToken, 1, 40);
    }

    internal static Teacher AsTeacher(CausalLM model, MultiTeacher.Tokenization.HfTokenizer tokenizer, VocabularyProjection projection) =>
        new(new MultiTeacher.Recipes.TeacherSettings { Name = "t", Path = "." }, model, tokenizer, projection);
}
