using MultiTeacher.Alignment;
using MultiTeacher.Cache;
using MultiTeacher.Tests.Models;
using MultiTeacher.Tokenization;
using MultiTeacher.Training;
using static TorchSharp.torch;

namespace MultiTeacher.Tests.Training;

[Trait("Category", TestCategory.Unit)]
public class AlmLossTests
{
    // A hand-made two-chunk case. Student tokens [0 1 2 3] (token 0 is context), vocabulary of 4
    // whose tokens 0 and 3 start at a word boundary. Rows of student probabilities:
    //   row 0: [0.1, 0.5, 0.2, 0.2]   predicts token 1 (id 1): 0.5
    //   row 1: [0.25 × 4]             predicts token 2 (id 2): 0.25
    //   row 2: [0.4, 0.1, 0.1, 0.4]   predicts token 3 (id 3): 0.4; boundary mass 0.4 + 0.4 = 0.8
    //   row 3: [0.3, 0.3, 0.2, 0.2]   boundary mass 0.3 + 0.2 = 0.5
    // Chunk A = student tokens [1, 3), teacher token [1, 2); chunk B = student [3, 4), teacher [2, 4).
    // Teacher records (observed next-token probability, boundary mass) per teacher position:
    //   0: (0.2, 0.5)  1: (0.5, 0.05)  2: (0.8, 0.6)  3: (—, 0.9)
    // Chunk probabilities:
    //   plain:    A: p_S = 0.5·0.25 = 0.125, p_T = 0.2        B: p_S = 0.4, p_T = 0.5·0.8 = 0.4
    //   debiased: A: p_S = 0.125·0.8 = 0.1, p_T = 0.2·0.05 = 0.01   B: p_S = 0.4·0.5 = 0.2, p_T = 0.4·0.9 = 0.36
    //   merged (γ = 0.1 > 0.05, the teacher's boundary after A): p_S = 0.125·0.4·0.5 = 0.025, p_T = 0.2·0.5·0.8·0.9 = 0.072
    // kl(p, q) = p ln(p/q) + (1−p) ln((1−p)/(1−q)):
    //   plain:    (kl(0.2, 0.125) + kl(0.4, 0.4)) / 2 = (0.0223110 + 0) / 2 = 0.0111555
    //   debiased: (kl(0.01, 0.1) + kl(0.36, 0.2)) / 2 = (0.0713312 + 0.0687913) / 2 = 0.0700613
    //   merged:   kl(0.072, 0.025) = 0.0303124
    //   τ = 2, debiased: (kl(√0.01, √0.1) + kl(√0.36, √0.2)) / 2 = 0.0895484
    // With the sides swapped (reverse KL) the plain value would be kl(0.125, 0.2) / 2 = 0.0098301.
    internal static readonly double[][] StudentProbs =
        [[0.1, 0.5, 0.2, 0.2], [0.25, 0.25, 0.25, 0.25], [0.4, 0.1, 0.1, 0.4], [0.3, 0.3, 0.2, 0.2]];
    internal static readonly AlmPosition[] TeacherRecords =
        [P(0.2, 0.5), P(0.5, 0.05), P(0.8, 0.6), P(1, 0.9)];
    internal static readonly ChunkAlignment TwoChunks = new(
        [new ByteChunk(0, 2, 1, 3, 1, 2, ChunkStatus.Scored), new ByteChunk(2, 3, 3, 4, 2, 4, ChunkStatus.Scored)], 3);

    internal static AlmPosition P(double observed, double boundary) => new((float)Math.Log(observed), (float)Math.Log(boundary));

    [Theory]
    [InlineData(false, 0.0, 1.0, 0.0111555, 2)]
    [InlineData(true, 0.0, 1.0, 0.0700613, 2)]
    [InlineData(true, 0.01, 1.0, 0.0700613, 2)]   // 0.05 ≥ γ: no merge
    [InlineData(true, 0.1, 1.0, 0.0303124, 1)]
    [InlineData(true, 0.0, 2.0, 0.0895484, 2)]
    public void TwoChunks_MatchTheHandComputedValues(bool debias, double gamma, double tau, double expected, int chunks)
    {
        using var scope = NewDisposeScope();
        var plan = new AlmChunkPlan(new AlmSettings(tau, gamma, debias));
        plan.Add(TwoChunks, [0, 1, 2, 3], TeacherRecords, rowOffset: 0);
        Assert.Equal(chunks, plan.Chunks);
        Assert.Equal(2, plan.ChunksBeforeMerge);
        Assert.Equal(chunks == 1 ? 0.5 : 0.0, plan.Merged, 12);
        var logits = tensor(StudentProbs.SelectMany(r => r).ToArray(), [4, 4], float64).log();
        var loss = AlmLoss.Compute(logits, plan, tensor(new[] { true, false, false, true })).item<double>();
        Assert.Equal(expected, loss, 5);
    }

    [Fact]
    public void RowOffset_PlacesASequenceInTheFlattenedBatch()
    {
        using var scope = NewDisposeScope();
        var plan = new AlmChunkPlan(new AlmSettings(1, 0, false));
        plan.Add(TwoChunks, [0, 1, 2, 3], TeacherRecords, rowOffset: 4);
        var padding = full(4, 4, 0.25, dtype: float64);
        var logits = cat([padding, tensor(StudentProbs.SelectMany(r => r).ToArray(), [4, 4], float64)], 0).log();
        Assert.Equal(0.0111555, AlmLoss.Compute(logits, plan, tensor(new[] { true, false, false, true })).item<double>(), 5);
        Assert.Equal([4L, 5, 6], plan.Rows);
    }

    [Fact]
    public void Gradients_MatchFiniteDifferences()
    {
        using var scope = NewDisposeScope();
        var g = new Generator(5);
        var logits = (randn([6, 5], dtype: float64, generator: g) * 1.5).requires_grad_();
        var mask = tensor(new[] { true, false, true, false, false });
        var alignment = new ChunkAlignment(
        [
            new ByteChunk(0, 2, 1, 3, 1, 2, ChunkStatus.Scored), new ByteChunk(2, 4, 3, 4, 2, 3, ChunkStatus.Scored),
            new ByteChunk(4, 7, 4, 6, 3, 5, ChunkStatus.Scored),
        ], 7);
        AlmPosition[] teacher = [P(0.3, 0.6), P(0.6, 0.2), P(0.5, 0.05), P(0.7, 0.4), P(0.9, 0.5)];
        var plan = new AlmChunkPlan(new AlmSettings(2, 0.1, true));
        plan.Add(alignment, [0, 2, 4, 1, 3, 0], teacher, 0);
        Assert.Equal(2, plan.Chunks);   // the second chunk (teacher boundary 0.05) joins the third
        AlmLoss.Compute(logits, plan, mask).backward();
        var analytic = logits.grad!.clone();
        Assert.True(analytic.abs().max().item<double>() > 1e-3);
        const double h = 1e-6;
        using var noGrad = no_grad();
        for (var i = 0; i < 6; i++)
            for (var j = 0; j < 5; j++)
            {
                var plus = logits.detach().clone(); plus[i, j] += h;
                var minus = logits.detach().clone(); minus[i, j] -= h;
                var numeric = (AlmLoss.Compute(plus, plan, mask) - AlmLoss.Compute(minus, plan, mask)).item<double>() / (2 * h);
                Assert.True(Math.Abs(numeric - analytic[i, j].item<double>()) < 1e-7 + 1e-5 * Math.Abs(numeric),
                    $"[{i},{j}]: numeric {numeric} vs autograd {analytic[i, j].item<double>()}");
            }
    }

    [Fact]
    public void SameModelAndTokenizer_GiveZeroLossAndZeroGradient_AnotherTeacherDoesNot()
    {
        var tok = TestAssets.Tokenizer("mistral-7b-v0.1");
        var config = TinyModels.Config("mistral", tok.VocabSize);
        using var student = TinyModels.Create(config, seed: 3);
        using var other = TinyModels.Create(config, seed: 4);
        using var mask = tensor(BoundaryMask.For(tok, config.VocabSize));
        var e = tok.Encode("The cat sat on the mat. 東京 😀 and   spaces\nnew line");
        var ids = tensor(e.Ids.Select(i => (long)i).ToArray()).unsqueeze(0);
        var alignment = ChunkAligner.Align(e, tok, e, tok);
        Assert.Equal(1.0, alignment.Coverage);

        foreach (var (teacher, zero) in new[] { (student, true), (other, false) })
        {
            using var scope = NewDisposeScope();
            AlmPosition[] records;
            using (no_grad()) records = AlmRecords.FromLogProbs(nn.functional.log_softmax(teacher.forward(ids)[0], -1), e.Ids, mask);
            var plan = new AlmChunkPlan(new AlmSettings(Temperature: 5, Gamma: 0.1));
            plan.Add(alignment, e.Ids, records, 0);
            student.zero_grad();
            var loss = AlmLoss.Compute(student.forward(ids)[0], plan, mask);
            Assert.Equal(ScalarType.Float32, loss.dtype);
            loss.backward();
            var gradient = student.parameters().Max(p => p.grad is { } gr ? gr.abs().max().item<float>() : 0f);
            if (zero)
            {
                Assert.True(Math.Abs(loss.item<float>()) < 1e-10, $"loss {loss.item<float>()}");
                Assert.True(gradient < 1e-6, $"gradient {gradient}");
            }
            else
            {
                Assert.True(loss.item<float>() > 1e-4, $"loss {loss.item<float>()}");
                Assert.True(gradient > 1e-4, $"gradient {gradient}");
            }
        }
    }

    [Fact]
    public void BinaryKl_IsStableAtBothEnds()
    {
        using var scope = NewDisposeScope();
        var a = tensor(new[] { -1e-7, -1e-7, -50.0, -3.0 }, float64);
        var b = tensor(new[] { -1e-7, -2e-7, -50.0, -60.0 }, float64);
        var kl = AlmLoss.BinaryKl(a, b).data<double>().ToArray();
        Assert.Equal(0, kl[0], 12);
        // p_T ≈ 1 − 1e-7, p_S ≈ 1 − 2e-7: ≈ ln 2 · 1e-7 + (1e-7)(ln(1e-7/2e-7)) + ... computed in the log domain it stays finite.
        Assert.True(double.IsFinite(kl[1]) && kl[1] >= 0);
        Assert.Equal(0, kl[2], 12);
        // p_T = e^-3 against an almost impossible student chunk: e^-3 (−3 + 60) + (1 − e^-3) ln(1 − e^-3).
        Assert.Equal(Math.Exp(-3) * 57 + (1 - Math.Exp(-3)) * Math.Log(1 - Math.Exp(-3)), kl[3], 9);
    }

    [Fact]
    public void GradientBalance_GivesEveryTermTheSameGradientNorm_AndWeightsSumToOne()
    {
        using var scope = NewDisposeScope();
        var theta = tensor(new[] { 1.0, 2.0 }, float64).requires_grad_();
        var l1 = 3 * theta.sum();               // ∇ = (3, 3), norm 3√2
        var l2 = 0.5 * theta.square().sum();    // ∇ = θ = (1, 2), norm √5
        var l3 = tensor(7.0, float64);          // no gradient: weight 0
        var w = GradientBalance.Weights([l1, l2, l3], [theta]);
        var (i1, i2) = (1 / (3 * Math.Sqrt(2)), 1 / Math.Sqrt(5));
        Assert.Equal(i1 / (i1 + i2), w[0], 12);
        Assert.Equal(i2 / (i1 + i2), w[1], 12);
        Assert.Equal(0, w[2]);
        Assert.Equal(w[0] * 3 * Math.Sqrt(2), w[1] * Math.Sqrt(5), 12);
        var total = GradientBalance.Combine([l1, l2], [theta], out _);
        var single = tensor(new[] { 1f, 2f }).requires_grad_();   // float32 parameters, as a model's
        Assert.Equal(1.0, GradientBalance.Weights([single.sum()], [single])[0], 12);
        total.backward();
        Assert.Equal(w[0] * 3 + w[1] * 1, theta.grad![0].item<double>(), 12);
    }
}
