using MultiTeacher.Losses;
using MultiTeacher.Mixing;
using MultiTeacher.Models;
using MultiTeacher.Tests.Models;
using MultiTeacher.Training;
using static TorchSharp.torch;

namespace MultiTeacher.Tests.Training;

/// <summary>
/// The chunked loss against the whole batch's: α·CE(gold) + (1−α)·divergence over (B·T, V) logits
/// from one forward, backpropagated once. Loss and every parameter's gradient agree within 1e-5 of
/// the largest entry (float32 sums in another order: the head's gradient is accumulated chunk by
/// chunk instead of in one matmul; observed differences are near 1e-7).
/// </summary>
[Trait("Category", TestCategory.Unit)]
public sealed class ChunkedLossTests
{
    private const double Relative = 1e-5;
    private const int B = 3, T = 11, V = 320;

    public static TheoryData<string, LossKind, double, double, int, bool> Cases() => new()
    {
        { "llama", LossKind.ForwardKl, 1, 0.5, 7, false },
        { "qwen3", LossKind.ForwardKl, 2, 0.3, 5, false },      // tied embeddings: the head's gradient meets the embedding's
        { "llama", LossKind.ReverseKl, 2, 0.5, 1, false },
        { "qwen3", LossKind.Jsd, 1, 0.5, 10, false },
        { "mistral", LossKind.Tv, 1, 0.2, 4, false },
        { "qwen2", LossKind.ForwardKl, 1, 0.5, 1000, false },   // one chunk
        { "llama", LossKind.ForwardKl, 2, 0.5, 7, true },       // the tail lumped: each chunk keeps it so
        { "mistral", LossKind.ReverseKl, 1, 0.5, 4, true },
    };

    /// <summary>Gold ids with no target at the end of the last sequence, and a teacher distribution at two positions in three.</summary>
    private static (Tensor Ids, Tensor Targets, long[] Positions, SupportDistribution Target) Batch(int seed, bool lumped = false)
    {
        var g = new Generator((ulong)seed);
        var ids = randint(0, V, [B, T], generator: g);
        var targets = randint(0, V, [B * T], generator: g);
        targets[(B * T - 4)..] = tensor(-100L);
        var positions = Enumerable.Range(0, B * T).Where(p => p % 3 != 1).Select(p => (long)p).ToArray();
        var n = positions.Length;
        var p = nn.functional.softmax(randn([n, V], generator: g) * 3, -1);
        const int m = 12;
        var (values, support) = p.topk(m, -1);
        var rest = (1 - values.sum(-1)) / (V - m);
        return (ids, targets, positions, new SupportDistribution(new Support(support, ones(n, m, dtype: ScalarType.Bool), full(n, V - m, dtype: float32), V), values, rest) { Lumped = lumped });
    }

    private static (double Loss, Dictionary<string, Tensor> Grads) Whole(CausalLM model, Tensor ids, Tensor targets, long[]? positions, SupportDistribution? target, LossSettings s)
    {
        model.zero_grad();
        var flat = model.forward(ids).view(-1, V);
        var ce = nn.functional.cross_entropy(flat, targets, ignore_index: -100);
        var kd = target is null ? null : DistillationLoss.Divergence(flat.index_select(0, tensor(positions!)), target, s);
        var loss = DistillationLoss.Combine(ce, kd, s.HardLabelWeight);
        loss.backward();
        return (loss.item<float>(), Grads(model));
    }

    private static Dictionary<string, Tensor> Grads(CausalLM model) =>
        model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.clone());

    private static void AssertClose(double loss, Dictionary<string, Tensor> grads, ChunkedLossResult chunked, CausalLM model)
    {
        Assert.Equal(loss, chunked.Loss, Math.Abs(loss) * Relative);
        foreach (var (name, g) in Grads(model))
        {
            var scale = grads[name].abs().max().item<float>();
            var diff = (g - grads[name]).abs().max().item<float>();
            Assert.True(diff <= Relative * scale + 1e-12, $"{name}: max |chunked − whole| = {diff}, largest entry {scale}");
        }
    }

    [Theory, MemberData(nameof(Cases))]
    public void ChunkedLossAndGradients_EqualTheWholeBatchs(string family, LossKind kind, double temperature, double alpha, int chunk, bool lumped)
    {
        using var model = TinyModels.Create(TinyModels.Config(family, V), seed: 9);
        using var scope = NewDisposeScope();
        var (ids, targets, positions, target) = Batch(4, lumped);
        var s = new LossSettings { Kind = kind, Temperature = temperature, HardLabelWeight = alpha };
        var (loss, grads) = Whole(model, ids, targets, positions, target, s);

        model.zero_grad();
        var chunked = ChunkedLoss.Backward(model, model.Hidden(ids), targets, positions, target, s, chunk, scale: 1);

        AssertClose(loss, grads, chunked, model);
        Assert.NotNull(chunked.Kd);
        Assert.Equal(loss, alpha * chunked.Ce + (1 - alpha) * chunked.Kd!.Value, Math.Abs(loss) * Relative);
    }

    [Theory]
    [InlineData("llama", 1)]
    [InlineData("qwen3", 8)]
    public void HardLabelOnly_ChunkedLossAndGradients_EqualTheWholeBatchs_AndScaleMultipliesTheGradients(string family, int chunk)
    {
        using var model = TinyModels.Create(TinyModels.Config(family, V), seed: 2);
        using var scope = NewDisposeScope();
        var (ids, targets, _, _) = Batch(6);
        var s = new LossSettings { HardLabelWeight = 1 };
        var (loss, grads) = Whole(model, ids, targets, null, null, s);

        model.zero_grad();
        var chunked = ChunkedLoss.Backward(model, model.Hidden(ids), targets, null, null, s, chunk, scale: 1);
        AssertClose(loss, grads, chunked, model);
        Assert.Null(chunked.Kd);

        model.zero_grad();
        ChunkedLoss.Backward(model, model.Hidden(ids), targets, null, null, s, chunk, scale: 0.25);
        AssertClose(loss, grads.ToDictionary(g => g.Key, g => g.Value * 0.25), chunked, model);
    }
}
