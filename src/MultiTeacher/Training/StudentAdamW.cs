using MultiTeacher.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MultiTeacher.Training;

/// <summary>TorchSharp's AdamW update, operation for operation, with every scalar argument kept alive until libtorch has read it.</summary>
/// <remarks>
/// TorchSharp turns each number passed to a tensor operation into a finalizable <see cref="Scalar"/>
/// that nothing references once its handle is read, so a garbage collection started by another thread
/// during the native call can free it while libtorch still uses it (dotnet/TorchSharp#1496): a crash
/// in Scalar.h at best, a silently wrong update at worst. The optimizer touches every parameter with
/// eight such numbers per step, so here each one is owned by a <c>using</c> that ends after the call.
/// Same state class and checkpoint format as <see cref="AdamW"/>.
/// </remarks>
public sealed class StudentAdamW : AdamW
{
    public StudentAdamW(IEnumerable<Parameter> parameters, double lr, double weightDecay)
        : base(parameters, lr, weight_decay: weightDecay) { }

    public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
    {
        var options = (Options)group.Options;
        var (beta1, beta2, eps, lr) = (options.beta1!.Value, options.beta2!.Value, options.eps!.Value, options.LearningRate!.Value);
        using var decay = (1 - lr * options.weight_decay!.Value).ToScalar();
        using var keep1 = beta1.ToScalar();
        using var take1 = (1 - beta1).ToScalar();
        using var keep2 = beta2.ToScalar();
        using var take2 = (1 - beta2).ToScalar();
        using var epsilon = eps.ToScalar();
        foreach (var param in group.Parameters)
        {
            var grad = param.grad;
            if (grad is null) continue;
            var state = (State)_state[param.Handle];
            state.step += 1;
            param.mul_(decay);
            var biasCorrection1 = 1 - Math.Pow(beta1, state.step);
            var biasCorrection2 = 1 - Math.Pow(beta2, state.step);
            state.exp_avg.mul_(keep1).add_(grad, take1);
            state.exp_avg_sq.mul_(keep2).addcmul_(grad, grad, take2);
            using var root = Math.Sqrt(biasCorrection2).ToScalar();
            using var stepSize = (-(lr / biasCorrection1)).ToScalar();
            var denominator = state.exp_avg_sq.sqrt().div(root).add_(epsilon, Scalars.One);
            param.addcdiv_(state.exp_avg, denominator, stepSize);
        }
    }, closure);
}
