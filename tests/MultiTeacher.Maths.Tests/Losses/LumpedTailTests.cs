using MultiTeacher.Losses;
using MultiTeacher.Mixing;
using MultiTeacher.Settings;
using static TorchSharp.torch;

namespace MultiTeacher.Tests.Losses;

/// <summary>
/// A lumped tail: the teacher's mass outside its support is one outcome, compared with the
/// student's total mass outside the support. Expected values are written out by hand over the
/// coarse outcomes {token 0, token 1, everything else}.
/// </summary>
[Trait("Category", TestCategory.Unit)]
public class LumpedTailTests
{
    // Vocabulary of 4; support {0, 1} plus one padding slot; teacher (0.5, 0.3) and 0.1 on each of
    // the two outside tokens, so 0.2 lumped.
    private static SupportDistribution Target(bool lumped = true) =>
        new SupportDistribution(
            new Support(tensor(new long[,] { { 0, 1, 0 } }), tensor(new[,] { { true, true, false } }), tensor(new double[] { 2 }), 4),
            tensor(new[,] { { 0.5, 0.3, 0.0 } }), tensor(new[] { 0.1 })) { Lumped = lumped };

    private static readonly double[] Q = [0.4, 0.4, 0.15, 0.05];

    private static Tensor Logits(double[] q) => tensor(q).log().unsqueeze(0);

    private static double Loss(string kind, double[] q, double temperature = 1, bool lumped = true) =>
        DistillationLoss.Divergence(Logits(q), Target(lumped), new LossSettings { Kind = SettingNames.Parse<LossKind>(kind), Temperature = temperature, Beta = 0.3 }).item<double>();

    private static double Kl(double[] p, double[] q) => p.Zip(q).Sum(x => x.First == 0 ? 0 : x.First * Math.Log(x.First / x.Second));

    [Fact]
    public void ForwardKl_ComparesTheLumpWithTheStudentsMassOutsideTheSupport()
    {
        using var scope = NewDisposeScope();
        var expected = 0.5 * Math.Log(0.5 / 0.4) + 0.3 * Math.Log(0.3 / 0.4) + 0.2 * Math.Log(0.2 / 0.2);
        Assert.Equal(expected, Loss("forward_kl", Q), 9);
        // Spread, the same tail asks 0.1 of each outside token instead.
        var spread = 0.5 * Math.Log(0.5 / 0.4) + 0.3 * Math.Log(0.3 / 0.4) + 0.1 * Math.Log(0.1 / 0.15) + 0.1 * Math.Log(0.1 / 0.05);
        Assert.Equal(spread, Loss("forward_kl", Q, lumped: false), 9);
    }

    [Fact]
    public void ReverseKl_JsdAndTv_UseTheCoarseOutcomes()
    {
        using var scope = NewDisposeScope();
        double[] p = [0.5, 0.3, 0.2], q = [0.4, 0.4, 0.2];
        Assert.Equal(Kl(q, p), Loss("reverse_kl", Q), 9);
        var m = p.Zip(q, (a, b) => 0.3 * a + 0.7 * b).ToArray();
        Assert.Equal(0.3 * Kl(p, m) + 0.7 * Kl(q, m), Loss("jsd", Q), 9);
        Assert.Equal(0.5 * (0.1 + 0.1 + 0), Loss("tv", Q), 9);
    }

    [Theory]
    [InlineData("forward_kl"), InlineData("reverse_kl"), InlineData("jsd"), InlineData("tv")]
    public void Divergence_IsZero_HoweverTheStudentSpreadsTheLump(string kind)
    {
        using var scope = NewDisposeScope();
        Assert.Equal(0, Loss(kind, [0.5, 0.3, 0.19, 0.01]), 9);
        Assert.True(Loss(kind, [0.5, 0.3, 0.19, 0.01], lumped: false) > 1e-3, "spread, the tail must ask for an even split");
    }

    [Fact]
    public void Temperature_SoftensTheLumpAsOneOutcome_AndScalesByTSquared()
    {
        using var scope = NewDisposeScope();
        // Teacher (0.5, 0.3, 0.2)^(1/2) renormalised; student softmax(log q / 2) coarsened afterwards.
        double[] p = [Math.Sqrt(0.5), Math.Sqrt(0.3), Math.Sqrt(0.2)];
        p = p.Select(x => x / p.Sum()).ToArray();
        var soft = Q.Select(Math.Sqrt).ToArray();
        var z = soft.Sum();
        double[] q = [soft[0] / z, soft[1] / z, (soft[2] + soft[3]) / z];
        Assert.Equal(4 * Kl(p, q), Loss("forward_kl", Q, temperature: 2), 9);
    }

    [Theory]
    [InlineData("forward_kl", 1.0), InlineData("forward_kl", 2.0), InlineData("reverse_kl", 1.0), InlineData("jsd", 2.0), InlineData("tv", 1.0)]
    public void Gradients_MatchFiniteDifferences(string kind, double temperature)
    {
        using var scope = NewDisposeScope();
        var settings = new LossSettings { Kind = SettingNames.Parse<LossKind>(kind), Temperature = temperature, Beta = 0.3 };
        var logits = tensor(new[] { 0.3, -0.2, 1.1, -0.7 }).unsqueeze(0).requires_grad_();
        DistillationLoss.Divergence(logits, Target(), settings).backward();
        var analytic = logits.grad!.clone();
        const double h = 1e-6;
        using var noGrad = no_grad();
        for (var j = 0; j < 4; j++)
        {
            var plus = logits.detach().clone(); plus[0, j] += h;
            var minus = logits.detach().clone(); minus[0, j] -= h;
            var numeric = (DistillationLoss.Divergence(plus, Target(), settings) - DistillationLoss.Divergence(minus, Target(), settings)).item<double>() / (2 * h);
            Assert.True(Math.Abs(numeric - analytic[0, j].item<double>()) < 1e-6 + 1e-4 * Math.Abs(numeric), $"{kind} [{j}]: {numeric} vs {analytic[0, j].item<double>()}");
        }
    }

    [Fact]
    public void Rows_AndDevices_KeepTheLump()
    {
        using var scope = NewDisposeScope();
        Assert.True(Target().Rows(0, 1).Lumped);
        Assert.True(Target().To(CPU).Lumped);
    }
}
