using MultiTeacher.Cache;
using MultiTeacher.Training;
using static TorchSharp.torch;

namespace MultiTeacher.Tests.Training;

[Trait("Category", TestCategory.Unit)]
public class UldLossTests
{
    [Fact]
    public void SmallVectors_MatchTheHandComputedDistance()
    {
        using var scope = NewDisposeScope();
        // Student [0.5, 0.3, 0.2] (V_S = 3). Teacher (V_T = 4): kept 0.6 and 0.2, tail 0.2 over the
        // other 2 tokens, 0.1 each: sorted [0.6, 0.2, 0.1, 0.1]; student padded [0.5, 0.3, 0.2, 0].
        // |0.5−0.6| + |0.3−0.2| + |0.2−0.1| + |0−0.1| = 0.1 + 0.1 + 0.1 + 0.1 = 0.4.
        var student = tensor(new[] { 0.5, 0.3, 0.2 }, float64).log().unsqueeze(0);
        Assert.Equal(0.4, UldLoss.Compute(student, tensor(new[] { 0.2, 0.6 }, float64).unsqueeze(0), tensor(new[] { 0.1 }, float64), 4).item<double>(), 12);
        var cached = new CachedPosition([5, 2], [(float)Math.Log(0.6), (float)Math.Log(0.2)], 0.2f);
        Assert.Equal(0.4, UldLoss.Compute(student, [cached], 4).item<double>(), 6);

        // Student [0.4, 0.3, 0.2, 0.1] (V_S = 4), teacher (V_T = 2) [0.7, 0.3] padded with zeros:
        // 0.3 + 0 + 0.2 + 0.1 = 0.6; the mean over two such rows is the same.
        var wide = tensor(new[] { 0.4, 0.3, 0.2, 0.1, 0.1, 0.2, 0.3, 0.4 }, [2, 4], float64).log();
        Assert.Equal(0.6, UldLoss.Compute(wide, tensor(new[] { 0.7, 0.7 }, [2, 1], float64), tensor(new[] { 0.3, 0.3 }, float64), 2).item<double>(), 12);
    }

    [Fact]
    public void RandomRows_MatchANaiveSortAndPad()
    {
        using var scope = NewDisposeScope();
        var g = new Generator(9);
        const int vs = 7, vt = 10, k = 3;
        var logits = randn([5, vs], dtype: float64, generator: g) * 2;
        var teacher = softmax(randn([5, vt], dtype: float64, generator: g) * 2, -1);
        var (top, _) = teacher.topk(k, -1);
        var rest = (1 - top.sum(-1)) / (vt - k);
        var loss = UldLoss.Compute(logits, top, rest, vt).item<double>();

        var s = softmax(logits, -1).data<double>().ToArray();
        var t = top.data<double>().ToArray();
        var r = rest.data<double>().ToArray();
        var expected = 0.0;
        for (var row = 0; row < 5; row++)
        {
            var sv = s.Skip(row * vs).Take(vs).OrderDescending().Concat(Enumerable.Repeat(0.0, vt - vs)).ToArray();
            var tv = t.Skip(row * k).Take(k).Concat(Enumerable.Repeat(r[row], vt - k)).OrderDescending().ToArray();
            expected += sv.Zip(tv, (a, b) => Math.Abs(a - b)).Sum() / 5;
        }
        Assert.Equal(expected, loss, 12);
    }

    [Fact]
    public void Gradient_FlowsThroughTheSort_AndMatchesFiniteDifferences()
    {
        using var scope = NewDisposeScope();
        var g = new Generator(3);
        var logits = randn([3, 6], dtype: float64, generator: g).requires_grad_();
        var top = tensor(new[] { 0.5, 0.2, 0.6, 0.3, 0.9, 0.05 }, [3, 2], float64);
        var rest = tensor(new[] { 0.3 / 6, 0.1 / 6, 0.05 / 6 }, float64);
        UldLoss.Compute(logits, top, rest, 8).backward();
        var analytic = logits.grad!.clone();
        const double h = 1e-6;
        using var noGrad = no_grad();
        for (var i = 0; i < 3; i++)
            for (var j = 0; j < 6; j++)
            {
                var plus = logits.detach().clone(); plus[i, j] += h;
                var minus = logits.detach().clone(); minus[i, j] -= h;
                var numeric = (UldLoss.Compute(plus, top, rest, 8) - UldLoss.Compute(minus, top, rest, 8)).item<double>() / (2 * h);
                Assert.True(Math.Abs(numeric - analytic[i, j].item<double>()) < 1e-6, $"[{i},{j}]: numeric {numeric} vs autograd {analytic[i, j].item<double>()}");
            }
    }
}
