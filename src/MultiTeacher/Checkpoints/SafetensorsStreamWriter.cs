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
    private long _rows;   // rows of the current tensor written so far
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
        if (_rows > 0) throw new InvalidOperationException($"{Path}: '{_slots[_next].Name}' is partly written");
        if (_next < _slots.Count && _slots[_next].Name == name && !_slots[_next].Shape.SequenceEqual(tensor.shape))
            throw new InvalidOperationException($"{Path}: '{name}' is {tensor.dtype} [{string.Join(", ", tensor.shape)}], declared {_slots[_next].DType} [{string.Join(", ", _slots[_next].Shape)}]");
        Append(name, tensor, whole: true);
    }

    /// <summary>
    /// Appends the next rows (along the first dimension) of the declared tensor being written; the
    /// tensor is complete, and the next one may start, once all its rows have arrived.
    /// </summary>
    public void WriteRows(string name, Tensor rows) => Append(name, rows, whole: false);

    private void Append(string name, Tensor tensor, bool whole)
    {
        if (_next >= _slots.Count) throw new InvalidOperationException($"{Path}: '{name}' was not declared");
        var slot = _slots[_next];
        if (slot.Name != name) throw new InvalidOperationException($"{Path}: expected '{slot.Name}' next, got '{name}'");
        var total = slot.Shape.Length == 0 ? 1 : slot.Shape[0];
        var rows = whole || slot.Shape.Length == 0 ? total : tensor.shape[0];
        if (SafetensorsFile.DTypes[slot.DType].Type != tensor.dtype || _rows + rows > total
            || (!whole && slot.Shape.Length > 0 && !slot.Shape.Skip(1).SequenceEqual(tensor.shape.Skip(1))))
            throw new InvalidOperationException($"{Path}: '{name}' rows are {tensor.dtype} [{string.Join(", ", tensor.shape)}] after {_rows} rows, declared {slot.DType} [{string.Join(", ", slot.Shape)}]");
        using (var scope = NewDisposeScope())
            _file.Write(tensor.detach().cpu().contiguous().bytes);
        _rows += rows;
        if (_rows < total) return;
        _rows = 0;
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
