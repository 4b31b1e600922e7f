using MultiTeacher.Alignment;
using MultiTeacher.Losses;
using MultiTeacher.Mixing;
using MultiTeacher.Settings;
using MultiTeacher.Tests.Mixing;
using static TorchSharp.torch;

namespace MultiTeacher.Tests.Losses;

[Trait("Category", TestCategory.Unit)]
public class DistillationLossTests
{
    private static LossSettings Loss(string kind, double temperature, double beta = 0.5) =>
        new() { Kind = SettingNames.Parse<LossKind>(kind), Temperature = temperature, Beta = beta };

    public static TheoryData<string, double> KindsAndTemperatures()
    {
        var data = new TheoryData<string, double>();
        // alm and uld are per-teacher terms on chunks and sorted rows, tested in their own classes.
        foreach (var kind in SettingNames.All<LossKind>().Where(k => !new LossSettings { Kind = SettingNames.Parse<LossKind>(k) }.PerTeacher))
            foreach (var t in new[] { 1.0, 2.0 })
                data.Add(kind, t);
        return data;
    }

    [Theory, MemberData(nameof(KindsAndTemperatures))]
    public void Gradients_MatchFiniteDifferences(string kind, double temperature)
    {
        using var scope = NewDisposeScope();
        var settings = Loss(kind, temperature, beta: 0.3);
        var g = new Generator(11);
        var logits = randn([3, 5], dtype: ScalarType.Float64, generator: g).requires_grad_();
        var target = softmax(randn([3, 5], dtype: ScalarType.Float64, generator: g) * 2, -1);
        DistillationLoss.Divergence(logits, target, settings).backward();
        var analytic = logits.grad!.clone();
        const double h = 1e-6;
        using var noGrad = no_grad();
        for (var i = 0; i < 3; i++)
            for (var j = 0; j < 5; j++)
            {
                var plus = logits.detach().clone(); plus[i, j] += h;
                var minus = logits.detach().clone(); minus[i, j] -= h;
                var numeric = (DistillationLoss.Divergence(plus, target, settings) - DistillationLoss.Divergence(minus, target, settings)).item<double>() / (2 * h);
                Assert.True(Math.Abs(numeric - analytic[i, j].item<double>()) < 1e-5 + 1e-4 * Math.Abs(numeric),
                    $"{kind} T={temperature} [{i},{j}]: numeric {numeric} vs autograd {analytic[i, j].item<double>()}");
            }
    }

    [Theory, MemberData(nameof(KindsAndTemperatures))]
    public void Divergence_IsZero_WhenTheStudentIsTheTarget(string kind, double temperature)
    {
        using var scope = NewDisposeScope();
        var logits = randn([4, 7], dtype: ScalarType.Float64);
        var target = softmax(logits, -1);
        var d = DistillationLoss.Divergence(logits, target, Loss(kind, temperature)).item<double>();
        Assert.True(Math.Abs(d) < 1e-9, $"{kind}: {d}");
    }

    [Fact]
    public void ForwardKl_MatchesItsDefinition()
    {
        using var scope = NewDisposeScope();
        var p = tensor(new double[] { 0.7, 0.2, 0.1 }).unsqueeze(0);
        var q = tensor(new double[] { 0.5, 0.25, 0.25 });
        var expected = 0.7 * Math.Log(0.7 / 0.5) + 0.2 * Math.Log(0.2 / 0.25) + 0.1 * Math.Log(0.1 / 0.25);
        var d = DistillationLoss.Divergence(q.log().unsqueeze(0), p, new LossSettings()).item<double>();
        Assert.Equal(expected, d, 9);
    }

    [Fact]
    public void Sum_AddsThePositionsTemperedDivergences_ScaledByTSquared()
    {
        using var scope = NewDisposeScope();
        // Two positions, uniform student; at T = 2 the target (0.8, 0.2) becomes (√0.8, √0.2)
        // renormalised = (2/3, 1/3), and the target (0.5, 0.5) stays uniform (divergence 0).
        var target = SupportDistribution.FromDense(tensor(new double[,] { { 0.8, 0.2 }, { 0.5, 0.5 } }));
        var student = zeros(2, 2, dtype: float64);
        var klAtT = 2.0 / 3 * Math.Log(2.0 / 3 / 0.5) + 1.0 / 3 * Math.Log(1.0 / 3 / 0.5);
        var sum = DistillationLoss.Sum(student, target, new LossSettings { Temperature = 2 }).item<double>();
        var mean = DistillationLoss.Divergence(student, target, new LossSettings { Temperature = 2 }).item<double>();
        Assert.Equal(4 * klAtT, sum, 9);
        Assert.Equal(4 * klAtT / 2, mean, 9);
    }

    [Fact]
    public void Combine_WeighsHardLabelAgainstDivergence()
    {
        using var scope = NewDisposeScope();
        var total = DistillationLoss.Combine(tensor(2.0), tensor(4.0), alpha: 0.25);
        Assert.Equal(0.25 * 2 + 0.75 * 4, total.item<double>(), 9);
        Assert.Equal(2.0, DistillationLoss.Combine(tensor(2.0), null, 0.25).item<double>(), 9);
    }

    [Theory, MemberData(nameof(KindsAndTemperatures))]
    public void DivergenceOnASupport_EqualsTheDenseDivergence_AndItsGradient(string kind, double temperature)
    {
        using var scope = NewDisposeScope();
        const int vocab = 50;
        foreach (var treatment in new[] { TailTreatment.Bucket, TailTreatment.Renormalize })
        {
            var (teachers, order, gold) = MixingPolicyTests.RandomRows(5, vocab, k: 6, treatment);
            var input = SupportAssembler.Assemble(teachers, order, gold, new long[order.Length], vocab);
            var target = MixingPolicy.Create(new MixingSettings(), [1.0, 1.0, 1.0]).Mix(input).Target;
            var settings = Loss(kind, temperature, beta: 0.3);
            var logits = (randn([order.Length, vocab], generator: new Generator(3)) * 2).requires_grad_();
            var sparse = DistillationLoss.Divergence(logits, target, settings);
            var sparseGrad = autograd.grad([sparse], [logits])[0];
            var dense = DistillationLoss.Divergence(logits, target.Dense(), settings);
            var denseGrad = autograd.grad([dense], [logits])[0];
            Assert.True(Math.Abs(sparse.item<float>() - dense.item<float>()) < 1e-4 * Math.Max(1, Math.Abs(dense.item<float>())), $"{treatment}: {sparse.item<float>()} vs {dense.item<float>()}");
            Assert.True(allclose(sparseGrad, denseGrad, atol: 1e-5), $"{treatment}: gradients differ by {(sparseGrad - denseGrad).abs().max().item<float>()}");
        }
    }
}
