using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MultiTeacher.Models;

/// <summary>
/// Linear layers whose weights are allocated but not filled. Every model's weights
/// are written right after it is built, from a checkpoint or by <see cref="CausalLM.InitializeWeights"/>,
/// so torch's default initialisation (a uniform or normal draw over every weight) would be thrown
/// away: for an 8B model that is minutes of random numbers before the checkpoint is read. The
/// layers are built on the meta device, where initialisation does nothing, and given empty weights.
/// The token embedding is unfilled by construction (<see cref="TokenEmbedding"/>).
/// </summary>
public static class Unfilled
{
    private static readonly Device Meta = new(TorchSharp.DeviceType.META);

    /// <summary>nn.Linear with unfilled weight (and bias).</summary>
    public static Linear Linear(long inputs, long outputs, bool hasBias, Device? device, ScalarType? dtype)
    {
        var layer = nn.Linear(inputs, outputs, hasBias, Meta, dtype);
        layer.weight = Parameter(layer.weight.shape, layer.weight.dtype, device);
        if (layer.bias is { } bias) layer.bias = Parameter(bias.shape, bias.dtype, device);
        return layer;
    }

    /// <summary>A parameter of the given shape, allocated and not filled.</summary>
    public static Parameter Parameter(long[] shape, ScalarType? dtype, Device? device) =>
        new(empty(shape, dtype ?? get_default_dtype(), device ?? CPU));
}
