using static TorchSharp.torch;

namespace MultiTeacher.Checkpoints;

/// <summary>Writes tensors as one safetensors file: names sorted, header padded to 8 bytes, data in order.</summary>
public static class SafetensorsWriter
{
    public static void Write(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var names = tensors.Keys.Order(StringComparer.Ordinal).ToList();
        var slots = names.Select(name => new TensorSlot(name, DTypeOf(name, tensors[name].dtype), tensors[name].shape)).ToList();
        using var writer = new SafetensorsStreamWriter(path, slots, metadata);
        foreach (var name in names) writer.Write(name, tensors[name]);
        writer.Complete();
    }

    /// <summary>The safetensors name of a TorchSharp dtype (F32, F16, BF16).</summary>
    public static string DTypeOf(string name, ScalarType type) =>
        SafetensorsFile.DTypes.FirstOrDefault(d => d.Value.Type == type).Key
        ?? throw new ArgumentException($"tensor '{name}' has dtype {type}, which safetensors output does not support here");
}
