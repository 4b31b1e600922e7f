using MultiTeacher.Alignment;
using MultiTeacher.Losses;
using MultiTeacher.Settings;
using MultiTeacher.Mixing;
using MultiTeacher.Tests.Mixing;
using MultiTeacher.Training;
using static TorchSharp.torch;

namespace MultiTeacher.Tests.Losses;

/// <summary>Every loss kind against worked examples and against <see cref="NaiveDivergence"/>.</summary>
[Trait("Category", TestCategory.Unit)]
public class DistillationLossReferenceTests
{
    public static TheoryData<string, double> KindsAndTemperatures()
    {
        var data = new TheoryData<string, double>();
        // alm and uld are per-teacher terms on chunks and sorted rows, tested in their own classes.
        foreach (var kind in SettingNames.All<LossKind>().Where(k => !new LossSettings { Kind = SettingNames.Parse<LossKind>(k) }.PerTeacher))
            foreach (var t in new[] { 1.0, 2.0, 0.5 })
                data.Add(kind, t);
        return data;
    }

    private static LossSettings Settings(string kind, double temperature, double beta) =>
        new() { Kind = SettingNames.Parse<LossKind>(kind), Temperature = temperature, Beta = beta };

    private static double Loss(double[] studentProbs, double[] target, string kind, double temperature = 1, double beta = 0.5)
    {
        using var scope = NewDisposeScope();
        var logits = tensor(studentProbs.Select(x => Math.Log(x)).ToArray()).unsqueeze(0);
        return DistillationLoss.Divergence(logits, tensor(target).unsqueeze(0), Settings(kind, temperature, beta)).item<double>();
    }

    // p = (0.7, 0.2, 0.1) is the target, q = (0.5, 0.25, 0.25) the student, both at T = 1.
    private static readonly double[] P = [0.7, 0.2, 0.1], Q = [0.5, 0.25, 0.25];

    [Fact]
    public void ReverseKl_IsKlOfTheStudentFromTheTarget_ByHand()
    {
        // KL(q‖p) = 0.5 ln(0.5/0.7) + 0.25 ln(0.25/0.2) + 0.25 ln(0.25/0.1)
        //         = -0.1682361 + 0.0557859 + 0.2290727 = 0.1166225;
        // forward KL(p‖q) = 0.235531 - 0.044629 - 0.091629 = 0.099273 is a different number.
        Assert.Equal(0.1166225, Loss(Q, P, "reverse_kl"), 7);
        Assert.Equal(0.099273, Loss(Q, P, "forward_kl"), 6);
    }

    [Fact]
    public void TotalVariation_IsHalfTheL1Distance_ByHand()
    {
        // ½ (|0.7-0.5| + |0.2-0.25| + |0.1-0.25|) = ½ (0.2 + 0.05 + 0.15) = 0.2
        Assert.Equal(0.2, Loss(Q, P, "tv"), 9);
    }

    [Fact]
    public void Jsd_WeighsBothSidesAgainstTheirMixture_ByHand()
    {
        // β = 0.3: m = 0.3 p + 0.7 q = (0.56, 0.235, 0.205).
        // KL(p‖m) = 0.7 ln(0.7/0.56) + 0.2 ln(0.2/0.235) + 0.1 ln(0.1/0.205) = 0.156200 - 0.032252 - 0.071784 = 0.052164
        // KL(q‖m) = 0.5 ln(0.5/0.56) + 0.25 ln(0.25/0.235) + 0.25 ln(0.25/0.205) = -0.056664 + 0.015469 + 0.049612 = 0.008417
        // JSD = 0.3 · 0.052164 + 0.7 · 0.008417 = 0.015649 + 0.005892 = 0.021541
        Assert.Equal(0.021541, Loss(Q, P, "jsd", beta: 0.3), 5);
        // β = 0.5 is the symmetric JSD: swapping the sides changes nothing.
        Assert.Equal(Loss(Q, P, "jsd"), Loss(P, Q, "jsd"), 12);
    }

    [Fact]
    public void Temperature_SoftensBothSides_AndScalesByTSquared_ByHand()
    {
        // T = 2. Student logits (ln 4, 0): softmax(z / 2) = softmax(ln 2, 0) = (2/3, 1/3).
        // Target (0.64, 0.36): p^{1/2} = (0.8, 0.6), renormalised (4/7, 3/7).
        // KL(p_T‖q_T) = 4/7 ln(6/7) + 3/7 ln(9/7) = -0.0880861 + 0.1077062 = 0.0196201; · T² = 0.0784803.
        // KL(q_T‖p_T) = 2/3 ln(7/6) + 1/3 ln(7/9) = 0.1027671 - 0.0837715 = 0.0189957; · T² = 0.0759827.
        double[] student = [0.8, 0.2], target = [0.64, 0.36];   // log(0.8/0.2) = ln 4
        Assert.Equal(0.0784803, Loss(student, target, "forward_kl", temperature: 2), 6);
        Assert.Equal(0.0759827, Loss(student, target, "reverse_kl", temperature: 2), 6);
        // TV: ½ (|4/7 - 2/3| + |3/7 - 1/3|) = 2/21; · 4 = 8/21.
        Assert.Equal(8.0 / 21, Loss(student, target, "tv", temperature: 2), 6);
    }

    [Fact]
    public void ZeroTargetProbability_StaysZeroUnderTemperature()
    {
        // Target (0.81, 0.19, 0) at T = 2: (0.9, √0.19, 0) renormalised; the zero contributes nothing to forward KL.
        double[] student = [0.5, 0.3, 0.2], target = [0.81, 0.19, 0];
        var expected = NaiveDivergence.Of("forward_kl", [student.Select(x => Math.Log(x)).ToArray()], [target], 2, 0.5);
        Assert.Equal(expected, Loss(student, target, "forward_kl", temperature: 2), 9);
        var tempered = NaiveDivergence.Temper(target, 2);
        Assert.Equal(0.9 / (0.9 + Math.Sqrt(0.19)), tempered[0], 12);
    }

    [Theory, MemberData(nameof(KindsAndTemperatures))]
    public void DenseDivergence_MatchesTheNaiveDefinition(string kind, double temperature)
    {
        using var scope = NewDisposeScope();
        var rng = new Random(17);
        const int rows = 4, vocab = 9;
        var logits = Rows(rows, () => rng.NextDouble() * 6 - 3);
        var target = Rows(rows, () => rng.NextDouble() < 0.25 ? 0 : Math.Exp(rng.NextDouble() * 4));
        foreach (var row in target) { var s = row.Sum(); for (var i = 0; i < vocab; i++) row[i] /= s; }
        var settings = Settings(kind, temperature, 0.3);
        var actual = DistillationLoss.Divergence(Tensor2(logits), Tensor2(target), settings).item<double>();
        var expected = NaiveDivergence.Of(kind, logits, target, temperature, 0.3);
        Assert.True(Math.Abs(actual - expected) < 1e-9 * Math.Max(1, Math.Abs(expected)), $"{kind} T={temperature}: {actual} vs {expected}");

        double[][] Rows(int n, Func<double> draw) => Enumerable.Range(0, n).Select(_ => Enumerable.Range(0, vocab).Select(_ => draw()).ToArray()).ToArray();
    }

    [Theory, MemberData(nameof(KindsAndTemperatures))]
    public void DivergenceOnASupportWithTailMass_MatchesTheNaiveDefinition(string kind, double temperature)
    {
        using var scope = NewDisposeScope();
        const int vocab = 50;
        var (teachers, order, gold) = MixingPolicyTests.RandomRows(23, vocab, k: 5, TailTreatment.Bucket);
        var input = SupportAssembler.Assemble(teachers, order, gold, new long[order.Length], vocab);
        var target = MixingPolicy.Create(MixingReferenceTests.Settings("weighted"), [1.0, 2.0, 0.5]).Mix(input).Target;
        Assert.True(target.Rest.gt(0).any().item<bool>(), "the target should carry tail mass outside its support");
        var logits = randn([order.Length, vocab], dtype: ScalarType.Float64, generator: new Generator(5)) * 2;
        var actual = DistillationLoss.Divergence(logits.to(float32), target, Settings(kind, temperature, 0.3)).item<float>();
        var expected = NaiveDivergence.Of(kind, Jagged(logits), Jagged(target.Dense().to(float64)), temperature, 0.3);
        Assert.True(Math.Abs(actual - expected) < 2e-5 * Math.Max(1, Math.Abs(expected)), $"{kind} T={temperature}: {actual} vs {expected}");
    }

    [Theory]
    [InlineData(0.0, 4.0)]
    [InlineData(1.0, 2.0)]
    [InlineData(0.5, 3.0)]   // ½·2 + ½·4
    [InlineData(0.9, 2.2)]   // 0.9·2 + 0.1·4
    public void HardLabelWeight_BlendsCrossEntropyAndDivergence(double alpha, double expected)
    {
        using var scope = NewDisposeScope();
        Assert.Equal(expected, DistillationLoss.Combine(tensor(2.0), tensor(4.0), alpha).item<double>(), 9);
    }

    private static Tensor Tensor2(double[][] rows) => tensor(rows.SelectMany(r => r).ToArray(), [rows.Length, rows[0].Length]);

    private static double[][] Jagged(Tensor t)
    {
        var flat = t.to(float64).data<double>().ToArray();
        var (n, v) = ((int)t.shape[0], (int)t.shape[1]);
        return Enumerable.Range(0, n).Select(i => flat.AsSpan(i * v, v).ToArray()).ToArray();
    }
}
