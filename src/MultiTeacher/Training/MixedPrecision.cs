using MultiTeacher.Models;
using MultiTeacher.Recipes;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MultiTeacher.Training;

/// <summary>
/// A bfloat16 copy of the student that runs the forward and backward passes, beside the float32
/// student that keeps the master weights the optimizer updates (mixed precision as Micikevicius et
/// al. 2018 and Megatron's bf16 optimizer do it). An AdamW step is often smaller than half a
/// bfloat16 ulp of its weight, so updating bfloat16 weights in place would lose it; the master keeps
/// it, and the copy is the master rounded to nearest even after each step. Checkpoints and the saved
/// student are the master, so resuming and evaluating see float32 weights.
/// </summary>
public sealed class MixedPrecision : IDisposable
{
    private readonly (Parameter Master, Parameter Compute)[] _pairs;

    /// <summary>The bfloat16 model the forward and backward passes run on.</summary>
    public CausalLM Compute { get; }

    private MixedPrecision(CausalLM master)
    {
        Compute = new CausalLM(master.Config, master.parameters().First().device, ScalarType.BFloat16);
        var compute = Compute.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        _pairs = master.named_parameters().Select(p => (p.parameter, compute[p.name])).ToArray();
        PushWeights();
    }

    /// <summary>A bfloat16 compute copy of <paramref name="master"/> for <see cref="StudentPrecision.Bfloat16"/>; null for float32, where the student computes itself.</summary>
    public static MixedPrecision? For(StudentPrecision precision, CausalLM master) =>
        precision == StudentPrecision.Bfloat16 ? new MixedPrecision(master) : null;

    /// <summary>Drops the compute copy's gradients (the master's are set by <see cref="PullGradients"/>).</summary>
    public void ZeroGradients()
    {
        foreach (var (_, compute) in _pairs) compute.grad = null;
    }

    /// <summary>The compute copy's gradients, in float32, become the master's (null where the copy has none).</summary>
    public void PullGradients()
    {
        // Each master holds its gradient itself once set, so every wrapper made here goes with the scope
        // (a wrapper left to the finalizer would keep a whole float32 gradient alive until a collection).
        using var scope = NewDisposeScope();
        foreach (var (master, compute) in _pairs)
            master.grad = compute.grad is { } g ? g.to(ScalarType.Float32) : null;
    }

    /// <summary>The master weights, rounded to bfloat16, into the compute copy.</summary>
    public void PushWeights()
    {
        using var noGrad = no_grad();
        foreach (var (master, compute) in _pairs) compute.copy_(master);
    }

    public void Dispose() => Compute.Dispose();
}
