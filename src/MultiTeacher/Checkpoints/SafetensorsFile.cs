using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using System.Text.Json;
using MultiTeacher.Inputs;
using static TorchSharp.torch;

namespace MultiTeacher.Checkpoints;

/// <summary>One tensor's entry in a safetensors header.</summary>
public sealed record SafetensorsEntry(string Name, string DType, long[] Shape, long Begin, long End)
{
    public long Elements => Shape.Aggregate(1L, (a, b) => a * b);
}

/// <summary>
/// A safetensors file (8-byte little-endian header length, JSON header, raw little-endian data),
/// memory-mapped: a tensor is copied straight from the mapping into its destination, so loading a
/// model never holds a second copy of it. Every header claim is checked before it is trusted.
/// </summary>
public sealed class SafetensorsFile : IDisposable
{
    /// <summary>Headers above this are rejected before any allocation (real ones are a few hundred KB).</summary>
    public const long MaxHeaderBytes = 100L << 20;

    public static readonly IReadOnlyDictionary<string, (ScalarType Type, int Size)> DTypes = new Dictionary<string, (ScalarType, int)>
    {
        ["F32"] = (ScalarType.Float32, 4), ["F16"] = (ScalarType.Float16, 2), ["BF16"] = (ScalarType.BFloat16, 2),
    };

    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private readonly long _dataStart;
    private readonly unsafe byte* _data;   // the first data byte in the mapping

    public string Path { get; }
    public IReadOnlyDictionary<string, SafetensorsEntry> Entries { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }

    public SafetensorsFile(string path)
    {
        Path = path;
        if (!File.Exists(path) && new FileInfo(path).LinkTarget is null) throw new CheckpointException(path, null, "file not found");
        var length = InputFile.Check(path, InputLimits.Unbounded, allowEmpty: true).Length;
        if (length < 8) throw new CheckpointException(path, null, $"truncated: {length} bytes, not even a header length");
        byte[] header;
        using (var stream = File.OpenRead(path))
        {
            Span<byte> prefix = stackalloc byte[8];
            stream.ReadExactly(prefix);
            var headerLength = BitConverter.ToInt64(prefix);
            if (headerLength <= 0 || headerLength > MaxHeaderBytes)
                throw new CheckpointException(path, null, $"header length {headerLength} is outside (0, {MaxHeaderBytes}]");
            if (8 + headerLength > length)
                throw new CheckpointException(path, null, $"truncated: header claims {headerLength} bytes, file has {length - 8}");
            header = new byte[headerLength];
            stream.ReadExactly(header);
        }
        _dataStart = 8 + header.Length;
        (Entries, Metadata) = ParseHeader(path, header, length - _dataStart);
        if (length > _dataStart)
        {
            _map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
            _view = _map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            unsafe
            {
                byte* pointer = null;
                _view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
                _data = pointer + _view.PointerOffset + _dataStart;
            }
        }
    }

    private static (Dictionary<string, SafetensorsEntry>, Dictionary<string, string>) ParseHeader(string path, byte[] header, long dataLength)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(header); }
        catch (JsonException e) { throw new CheckpointException(path, null, $"header is not valid JSON: {e.Message}"); }
        using var _ = doc;
        var entries = new Dictionary<string, SafetensorsEntry>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>();
        foreach (var p in doc.RootElement.EnumerateObject())
        {
            if (p.Name == "__metadata__")
            {
                foreach (var m in p.Value.EnumerateObject()) metadata[m.Name] = m.Value.ToString();
                continue;
            }
            try
            {
                var dtype = p.Value.GetProperty("dtype").GetString()!;
                var shape = p.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
                var offsets = p.Value.GetProperty("data_offsets").EnumerateArray().Select(d => d.GetInt64()).ToArray();
                if (!DTypes.TryGetValue(dtype, out var info)) throw new CheckpointException(path, p.Name, $"unsupported dtype {dtype} (supported: F32, F16, BF16)");
                if (shape.Any(d => d < 0) || offsets.Length != 2) throw new CheckpointException(path, p.Name, "malformed shape or data_offsets");
                var entry = new SafetensorsEntry(p.Name, dtype, shape, offsets[0], offsets[1]);
                if (entry.Begin < 0 || entry.End < entry.Begin || entry.End > dataLength)
                    throw new CheckpointException(path, p.Name, $"data [{entry.Begin}, {entry.End}) lies outside the {dataLength} data bytes (truncated file?)");
                if (entry.End - entry.Begin != entry.Elements * info.Size)
                    throw new CheckpointException(path, p.Name, $"header says {entry.End - entry.Begin} bytes but shape [{string.Join(", ", shape)}] of {dtype} needs {entry.Elements * info.Size}");
                entries[p.Name] = entry;
            }
            catch (Exception e) when (e is InvalidOperationException or KeyNotFoundException or FormatException)
            {
                throw new CheckpointException(path, p.Name, $"malformed header entry: {e.Message}");
            }
        }
        var sorted = entries.Values.OrderBy(e => e.Begin).ToList();
        for (var i = 1; i < sorted.Count; i++)
            if (sorted[i].Begin < sorted[i - 1].End)
                throw new CheckpointException(path, sorted[i].Name, $"data overlaps tensor '{sorted[i - 1].Name}'");
        return (entries, metadata);
    }

    /// <summary>Copies a tensor's bytes into <paramref name="destination"/> (CPU, contiguous, of the file's dtype and shape).</summary>
    public void CopyTo(string name, Tensor destination)
    {
        var e = Entries[name];
        if (destination.bytes.Length != e.End - e.Begin) throw new CheckpointException(Path, name, $"destination holds {destination.bytes.Length} bytes, tensor has {e.End - e.Begin}");
        CopyRows(name, 0, destination);
    }

    /// <summary>
    /// Copies rows [<paramref name="startRow"/>, startRow + destination's rows) of a tensor (along its
    /// first dimension) into <paramref name="destination"/>, so a large tensor can be processed a block at a time.
    /// </summary>
    public unsafe void CopyRows(string name, long startRow, Tensor destination)
    {
        var e = Entries[name];
        var bytes = destination.bytes;
        var rowBytes = e.Shape.Length == 0 || e.Shape[0] == 0 ? e.End - e.Begin : (e.End - e.Begin) / e.Shape[0];
        var offset = startRow * rowBytes;
        if (startRow < 0 || offset + bytes.Length > e.End - e.Begin || bytes.Length % Math.Max(rowBytes, 1) != 0)
            throw new CheckpointException(Path, name, $"rows from {startRow} ({bytes.Length} bytes) do not lie inside the tensor's {e.End - e.Begin} bytes");
        if (bytes.Length == 0) return;
        var start = _data + e.Begin + offset;
        new ReadOnlySpan<byte>(start, bytes.Length).CopyTo(bytes);
        MappedPages.Drop(start, bytes.Length);
    }

    /// <summary>A tensor's bytes in the mapping, to be read in place.</summary>
    public unsafe MappedTensor Map(string name)
    {
        var e = Entries[name];
        return new MappedTensor(e, e.End == e.Begin ? null : _data + e.Begin);
    }

    /// <summary>A new CPU tensor with the stored dtype and values.</summary>
    public Tensor Read(string name)
    {
        var e = Entries[name];
        var t = empty(e.Shape, DTypes[e.DType].Type);
        CopyTo(name, t);
        return t;
    }

    /// <summary>A new CPU tensor holding <paramref name="count"/> rows of a tensor from <paramref name="startRow"/>.</summary>
    public Tensor ReadRows(string name, long startRow, long count)
    {
        var e = Entries[name];
        var t = empty([count, .. e.Shape.Skip(1)], DTypes[e.DType].Type);
        CopyRows(name, startRow, t);
        return t;
    }

    public void Dispose()
    {
        if (_view is not null && !_view.SafeMemoryMappedViewHandle.IsClosed)
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view?.Dispose();
        _map?.Dispose();
    }
}
