using System.Text;
using System.Text.Json;
using static TorchSharp.torch;

namespace MultiTeacher.Checkpoints;

/// <summary>A tensor to be written: its name, safetensors dtype (F32, F16, BF16) and shape.</summary>
public sealed record TensorSlot(string Name, string DType, long[] Shape)
{
    public long Bytes => Shape.Aggregate(1L, (a, b) => a * b) * SafetensorsFile.DTypes[DType].Size;
}

/// <summary>
/// Writes one safetensors file tensor by tensor: the header (which needs every offset) is written
/// first from the declared slots, then each tensor's bytes as it arrives, so a writer never holds
/// more than the tensor in hand. Data goes to a temporary file renamed into place by <see cref="Complete"/>.
/// </summary>
public sealed class SafetensorsStreamWriter : IDisposable
{
    private readonly IReadOnlyList<TensorSlot> _slots;
    private readonly FileStream _file;
    private readonly string _temp;
    private int _next;
    private bool _completed;

    public string Path { get; }

    public SafetensorsStreamWriter(string path, IReadOnlyList<TensorSlot> slots, IReadOnlyDictionary<string, string>? metadata = null)
    {
        Path = path;
        _slots = slots;
        var header = new Dictionary<string, object>();
        if (metadata is { Count: > 0 }) header["__metadata__"] = metadata;
        long offset = 0;
        foreach (var slot in slots)
        {
            if (!SafetensorsFile.DTypes.ContainsKey(slot.DType)) throw new ArgumentException($"tensor '{slot.Name}': unsupported dtype {slot.DType}");
            header[slot.Name] = new { dtype = slot.DType, shape = slot.Shape, data_offsets = new[] { offset, offset + slot.Bytes } };
            offset += slot.Bytes;
        }
        var json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        var padded = (json.Length + 7) / 8 * 8;
        _temp = path + $".{Guid.NewGuid():N}.tmp";
        _file = File.Create(_temp);
        _file.Write(BitConverter.GetBytes((long)padded));
        _file.Write(json);
        for (var i = json.Length; i < padded; i++) _file.WriteByte((byte)' ');
    }

    /// <summary>Appends the next declared tensor; its name, dtype and shape must match the declaration.</summary>
    public void Write(string name, Tensor tensor)
    {
        if (_next >= _slots.Count) throw new InvalidOperationException($"{Path}: '{name}' was not declared");
        var slot = _slots[_next];
        if (slot.Name != name) throw new InvalidOperationException($"{Path}: expected '{slot.Name}' next, got '{name}'");
        if (SafetensorsFile.DTypes[slot.DType].Type != tensor.dtype || !slot.Shape.SequenceEqual(tensor.shape))
            throw new InvalidOperationException($"{Path}: '{name}' is {tensor.dtype} [{string.Join(", ", tensor.shape)}], declared {slot.DType} [{string.Join(", ", slot.Shape)}]");
        using (var scope = NewDisposeScope())
            _file.Write(tensor.detach().cpu().contiguous().bytes);
        _next++;
    }

    /// <summary>Flushes and renames the file into place once every declared tensor has been written.</summary>
    public void Complete()
    {
        if (_next != _slots.Count) throw new InvalidOperationException($"{Path}: {_slots.Count - _next} declared tensors were never written");
        _file.Flush(flushToDisk: false);
        _file.Dispose();
        File.Move(_temp, Path, overwrite: true);
        _completed = true;
    }

    public void Dispose()
    {
        _file.Dispose();
        if (!_completed && File.Exists(_temp)) File.Delete(_temp);
    }
}
