using System.Text.Json;
using static TorchSharp.torch;

namespace MultiTeacher.Checkpoints;

/// <summary>
/// Writes a model's weights into a directory the way Hugging Face does: model.safetensors when
/// they fit in one shard, else model-0000i-of-0000n.safetensors with model.safetensors.index.json.
/// Tensors are declared up front (shards are planned from their sizes) and streamed in that order.
/// </summary>
public sealed class CheckpointWriter : IDisposable
{
    private readonly List<(string File, List<TensorSlot> Slots)> _shards = [];
    private readonly IReadOnlyDictionary<string, string>? _metadata;
    private readonly string _directory;
    private SafetensorsStreamWriter? _current;
    private int _shard = -1, _inShard;
    private long _rows;   // rows of the tensor in hand written so far

    public CheckpointWriter(string directory, IReadOnlyList<TensorSlot> slots, long maxShardBytes, IReadOnlyDictionary<string, string>? metadata = null)
    {
        if (maxShardBytes <= 0) throw new ArgumentOutOfRangeException(nameof(maxShardBytes), "shard size must be positive");
        _directory = directory;
        _metadata = metadata;
        var groups = new List<List<TensorSlot>>();
        long size = 0;
        foreach (var slot in slots)
        {
            // A tensor larger than the limit gets a shard of its own, as transformers does.
            if (groups.Count == 0 || size > 0 && size + slot.Bytes > maxShardBytes) { groups.Add([]); size = 0; }
            groups[^1].Add(slot);
            size += slot.Bytes;
        }
        if (groups.Count == 0) groups.Add([]);
        for (var i = 0; i < groups.Count; i++)
            _shards.Add((groups.Count == 1 ? "model.safetensors" : $"model-{i + 1:00000}-of-{groups.Count:00000}.safetensors", groups[i]));
    }

    public IReadOnlyList<string> Files => _shards.Select(s => s.File).ToList();

    /// <summary>Writes the next declared tensor, opening the next shard when the current one is full.</summary>
    public void Write(string name, Tensor tensor)
    {
        if (_rows > 0) throw new InvalidOperationException($"'{_shards[_shard].Slots[_inShard].Name}' is partly written");
        NextShardIfFull(name).Write(name, tensor);
        _inShard++;
    }

    /// <summary>Writes the next rows of the declared tensor in hand (see <see cref="SafetensorsStreamWriter.WriteRows"/>).</summary>
    public void WriteRows(string name, Tensor rows)
    {
        var writer = NextShardIfFull(name);
        var slot = _shards[_shard].Slots[_inShard];
        writer.WriteRows(name, rows);
        _rows += slot.Shape.Length == 0 ? 1 : rows.shape[0];
        if (_rows < (slot.Shape.Length == 0 ? 1 : slot.Shape[0])) return;
        _rows = 0;
        _inShard++;
    }

    private SafetensorsStreamWriter NextShardIfFull(string name)
    {
        while (_current is null || _inShard == _shards[_shard].Slots.Count)
        {
            _current?.Complete();
            _current?.Dispose();
            if (++_shard >= _shards.Count) throw new InvalidOperationException($"'{name}' was not declared");
            _current = new SafetensorsStreamWriter(Path.Combine(_directory, _shards[_shard].File), _shards[_shard].Slots, _metadata);
            _inShard = 0;
        }
        return _current;
    }

    /// <summary>Completes the last shard (and any empty one) and writes the index when there are several.</summary>
    public void Complete()
    {
        while (_shard < _shards.Count - 1 || _current is null)
        {
            _current?.Complete();
            _current?.Dispose();
            _shard++;
            _current = new SafetensorsStreamWriter(Path.Combine(_directory, _shards[_shard].File), _shards[_shard].Slots, _metadata);
            _inShard = 0;
        }
        _current.Complete();
        if (_shards.Count == 1) return;
        var index = new
        {
            metadata = new { total_size = _shards.Sum(s => s.Slots.Sum(t => t.Bytes)) },
            weight_map = _shards.SelectMany(s => s.Slots.Select(t => (t.Name, s.File))).OrderBy(p => p.Name, StringComparer.Ordinal)
                .ToDictionary(p => p.Name, p => p.File),
        };
        File.WriteAllText(Path.Combine(_directory, "model.safetensors.index.json"), JsonSerializer.Serialize(index, new JsonSerializerOptions { WriteIndented = true }));
    }

    public void Dispose() => _current?.Dispose();
}
