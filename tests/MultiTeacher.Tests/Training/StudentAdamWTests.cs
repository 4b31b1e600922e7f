using MultiTeacher.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MultiTeacher.Tests.Training;

/// <summary>
/// The student's optimizer is AdamW with decoupled weight decay, checked against the update worked
/// out by hand and against TorchSharp's own AdamW bit for bit (the trainer used that one before, so
/// checkpoints and recorded runs keep their meaning).
/// </summary>
[Trait("Category", TestCategory.Unit)]
public sealed class StudentAdamWTests
{
    private const double Lr = 0.1, WeightDecay = 0.01, Beta1 = 0.9, Beta2 = 0.999, Eps = 1e-8;

    /// <summary>Sets the gradient of <paramref name="p"/> to <paramref name="g"/> through a backward pass of sum(p * g).</summary>
    private static void Backward(Parameter p, double[] g)
    {
        using var scope = NewDisposeScope();
        (p * tensor(g, dtype: float64)).sum().backward();
    }

    [Fact]
    public void TwoSteps_FollowTheDecoupledWeightDecayUpdate_WorkedByHand()
    {
        var p = new Parameter(tensor(new[] { 1.0, -2.0 }, dtype: float64));
        using var optimizer = new StudentAdamW([p], Lr, WeightDecay);
        double[] value = [1.0, -2.0], m = [0, 0], v = [0, 0];
        double[][] grads = [[0.5, 0.25], [0.1, -0.3]];
        for (var t = 1; t <= grads.Length; t++)
        {
            optimizer.zero_grad();
            Backward(p, grads[t - 1]);
            optimizer.step();
            for (var i = 0; i < 2; i++)
            {
                var g = grads[t - 1][i];
                m[i] = Beta1 * m[i] + (1 - Beta1) * g;
                v[i] = Beta2 * v[i] + (1 - Beta2) * g * g;
                var mHat = m[i] / (1 - Math.Pow(Beta1, t));
                var denominator = Math.Sqrt(v[i]) / Math.Sqrt(1 - Math.Pow(Beta2, t)) + Eps;
                value[i] = value[i] * (1 - Lr * WeightDecay) - Lr * mHat / denominator;
            }
            var actual = p.data<double>().ToArray();
            for (var i = 0; i < 2; i++) Assert.Equal(value[i], actual[i], 12);
            if (t != 1) continue;
            // The first step: decay by lr·wd, then m̂/√v̂ = g/|g|, so each weight moves by lr against its gradient's sign.
            Assert.Equal(0.999 - 0.1 * 0.5 / (0.5 + Eps), actual[0], 12);
            Assert.Equal(-1.998 - 0.1 * 0.25 / (0.25 + Eps), actual[1], 12);
        }
    }

    [Fact]
    public void Steps_AreBitIdenticalToTorchSharpsAdamW()
    {
        manual_seed(7);
        using var ours = nn.Linear(16, 8);
        using var theirs = nn.Linear(16, 8);
        theirs.load_state_dict(ours.state_dict());
        using var a = new StudentAdamW(ours.parameters(), 3e-3, 0.05);
        using var b = optim.AdamW(theirs.parameters(), 3e-3, weight_decay: 0.05);
        for (var step = 0; step < 5; step++)
        {
            var x = randn(4, 16);
            foreach (var (model, optimizer) in new (Linear, OptimizerHelper)[] { (ours, a), (theirs, b) })
            {
                using var scope = NewDisposeScope();
                optimizer.zero_grad();
                model.forward(x).square().mean().backward();
                optimizer.step();
            }
        }
        foreach (var ((name, p), (_, q)) in ours.named_parameters().Zip(theirs.named_parameters()))
            Assert.True(p.eq(q).all().item<bool>(), $"{name} differs from TorchSharp's AdamW");
    }
}
