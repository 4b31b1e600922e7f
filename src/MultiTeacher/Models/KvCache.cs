using static TorchSharp.torch;

namespace MultiTeacher.Models;

/// <summary>
/// Keys and values of the positions seen so far, one pair per layer, for incremental decoding.
/// The cache owns its tensors (outside any dispose scope) and frees each one as it is replaced.
/// </summary>
public sealed class KvCache(int layers) : IDisposable
{
    private readonly Tensor?[] _keys = new Tensor?[layers];
    private readonly Tensor?[] _values = new Tensor?[layers];

    /// <summary>Positions already in the cache (before the current step starts appending).</summary>
    public long Length => LengthOf(0);

    /// <summary>Positions cached for one layer; within a step, earlier layers have already appended.</summary>
    public long LengthOf(int layer) => _keys[layer]?.shape[2] ?? 0;

    /// <summary>Appends this step's k, v (B, Hkv, T, D) and returns the full ones (B, Hkv, past + T, D).</summary>
    public (Tensor Keys, Tensor Values) Append(int layer, Tensor k, Tensor v)
    {
        var keys = _keys[layer] is { } pk ? cat([pk, k], dim: 2) : k.alias();
        var values = _values[layer] is { } pv ? cat([pv, v], dim: 2) : v.alias();
        _keys[layer]?.Dispose();
        _values[layer]?.Dispose();
        _keys[layer] = keys.alias().DetachFromDisposeScope();
        _values[layer] = values.alias().DetachFromDisposeScope();
        return (keys, values);
    }

    public void Dispose()
    {
        foreach (var t in _keys) t?.Dispose();
        foreach (var t in _values) t?.Dispose();
        Array.Clear(_keys);
        Array.Clear(_values);
    }
}
