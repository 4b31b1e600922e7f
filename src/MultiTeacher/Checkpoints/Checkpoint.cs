using System.Text.Json;
using MultiTeacher.Inputs;
using static TorchSharp.torch;

namespace MultiTeacher.Checkpoints;

/// <summary>
/// The weights of a Hugging Face model directory: model.safetensors, or shards listed by
/// model.safetensors.index.json. Loading into a module is strict: every tensor the module has
/// must be present with its shape, and every tensor in the checkpoint must be used.
/// </summary>
public sealed class Checkpoint : IDisposable
{
    private readonly Dictionary<string, SafetensorsFile> _fileOf = new(StringComparer.Ordinal);
    private readonly List<SafetensorsFile> _files = [];

    public string Directory { get; }
    public IReadOnlyCollection<string> Names => _fileOf.Keys;
    public IEnumerable<SafetensorsEntry> Entries => _fileOf.Select(kv => kv.Value.Entries[kv.Key]);
    public long TotalBytes => _files.Sum(f => new FileInfo(f.Path).Length);

    public Checkpoint(string directory)
    {
        Directory = directory;
        var single = Path.Combine(directory, "model.safetensors");
        var index = Path.Combine(directory, "model.safetensors.index.json");
        try
        {
            if (File.Exists(single)) Add(new SafetensorsFile(single), expected: null);
            else if (File.Exists(index)) LoadShards(index);
            else throw new CheckpointException(directory, null, "no model.safetensors or model.safetensors.index.json");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    private void LoadShards(string index)
    {
        Dictionary<string, string> weightMap;
        try
        {
            using var doc = JsonDocument.Parse(InputFile.ReadAllText(index, InputLimits.SmallJson));
            weightMap = doc.RootElement.GetProperty("weight_map").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new CheckpointException(index, null, $"not a valid shard index: {e.Message}");
        }
        foreach (var shard in weightMap.Values.Distinct().Order(StringComparer.Ordinal))
        {
            if (shard.Contains('/') || shard.Contains('\\')) throw new CheckpointException(index, null, $"shard name '{shard}' is not a plain file name");
            var names = weightMap.Where(kv => kv.Value == shard).Select(kv => kv.Key).ToHashSet();
            Add(new SafetensorsFile(Path.Combine(Directory, shard)), names);
        }
    }

    private void Add(SafetensorsFile file, HashSet<string>? expected)
    {
        _files.Add(file);
        foreach (var name in file.Entries.Keys)
        {
            if (expected is not null && !expected.Contains(name)) throw new CheckpointException(file.Path, name, "present in the shard but not listed for it in the index");
            if (!_fileOf.TryAdd(name, file)) throw new CheckpointException(file.Path, name, "appears in two shards");
        }
        if (expected is not null && expected.FirstOrDefault(n => !file.Entries.ContainsKey(n)) is { } lost)
            throw new CheckpointException(file.Path, lost, "listed in the index but missing from the shard");
    }

    public bool Contains(string name) => _fileOf.ContainsKey(name);

    /// <summary>The header entry of a tensor (dtype, shape) and the file holding it.</summary>
    public SafetensorsEntry Entry(string name) => _fileOf.TryGetValue(name, out var file) ? file.Entries[name]
        : throw new CheckpointException(Directory, name, "tensor not found in the checkpoint");

    /// <summary>A new CPU tensor with the stored dtype and values, copied from the memory-mapped file.</summary>
    public Tensor Read(string name) => _fileOf.TryGetValue(name, out var file) ? file.Read(name)
        : throw new CheckpointException(Directory, name, "tensor not found in the checkpoint");

    /// <summary>Rows [start, start + count) of a tensor along its first dimension, copied from the memory-mapped file.</summary>
    public Tensor ReadRows(string name, long start, long count) => _fileOf.TryGetValue(name, out var file) ? file.ReadRows(name, start, count)
        : throw new CheckpointException(Directory, name, "tensor not found in the checkpoint");

    /// <summary>A tensor's bytes where they lie in the memory-mapped file, read in place (valid until this checkpoint is disposed).</summary>
    public MappedTensor Map(string name) => _fileOf.TryGetValue(name, out var file) ? file.Map(name)
        : throw new CheckpointException(Directory, name, "tensor not found in the checkpoint");

    /// <summary>Parameters in the checkpoint, counted from the tensors' shapes.</summary>
    public long ParameterCount => Entries.Sum(e => e.Elements);

    /// <summary>
    /// Checks names and shapes against a model's (a model on the meta device costs no memory), so a
    /// config.json that disagrees with its weights is reported before the real model is allocated.
    /// </summary>
    public void Verify(nn.Module module)
    {
        var state = module.state_dict();
        var missing = state.Keys.Where(k => !_fileOf.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
        var unexpected = _fileOf.Keys.Where(k => !state.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
        if (missing.Count > 0 || unexpected.Count > 0)
            throw new CheckpointException(Directory, null,
                $"checkpoint does not match the model: missing [{string.Join(", ", missing.Take(8))}{(missing.Count > 8 ? ", ..." : "")}], " +
                $"unexpected [{string.Join(", ", unexpected.Take(8))}{(unexpected.Count > 8 ? ", ..." : "")}]");
        foreach (var (name, target) in state)
        {
            var file = _fileOf[name];
            var entry = file.Entries[name];
            if (!entry.Shape.SequenceEqual(target.shape))
                throw new CheckpointException(file.Path, name, $"shape [{string.Join(", ", entry.Shape)}] does not match the model's [{string.Join(", ", target.shape)}]");
        }
    }

    /// <summary>Copies every tensor into the module's parameters and buffers, converting dtype; strict.</summary>
    public void LoadInto(nn.Module module)
    {
        Verify(module);
        using var noGrad = no_grad();
        foreach (var (name, target) in module.state_dict())
        {
            var file = _fileOf[name];
            // Same dtype on the CPU: straight from the mapping into the parameter, so loading a
            // bf16 checkpoint as bf16 holds no second copy of even its largest tensor.
            if (target.device_type == TorchSharp.DeviceType.CPU && target.is_contiguous() && target.dtype == SafetensorsFile.DTypes[file.Entries[name].DType].Type)
            {
                file.CopyTo(name, target);
                continue;
            }
            using var scope = NewDisposeScope();
            target.copy_(file.Read(name));   // one tensor at a time: converts dtype and device in place
        }
    }

    public void Dispose()
    {
        foreach (var f in _files) f.Dispose();
        _files.Clear();
    }
}
