namespace MultiTeacher.Merging;

/// <summary>
/// The exact k-th largest of non-negative finite float32 values that arrive in blocks, in two passes
/// over them with a fixed 256 KB of counts: a non-negative float's bit pattern orders like the float,
/// so pass 1 counts the values per upper 16 bits and finds the bucket holding the k-th largest, and
/// pass 2 counts that bucket's values per lower 16 bits. It is the value a selection over the whole
/// tensor (kthvalue) returns, without ever holding the whole tensor.
/// </summary>
public sealed class KthLargest
{
    private const int Buckets = 1 << 16;
    private readonly long _k;
    private readonly long[] _counts = new long[Buckets];
    private int _bucket = -1;
    private long _rankInBucket;

    /// <summary>Finds the <paramref name="k"/>-th largest (1 = the largest); k ≤ 0 gives +∞ (nothing reaches it).</summary>
    public KthLargest(long k) => _k = k;

    /// <summary>Passes still to run before <see cref="Value"/> is known.</summary>
    public int PassesLeft => _k <= 0 ? 0 : _bucket < 0 ? 2 : _rankInBucket > 0 ? 1 : 0;

    private float? _value;

    public float Value => _k <= 0 ? float.PositiveInfinity : _value ?? throw new InvalidOperationException("both passes have not run yet");

    /// <summary>Counts values given as their float32 bit patterns.</summary>
    public void Observe(ReadOnlySpan<uint> bits)
    {
        if (PassesLeft == 0) return;
        if (_bucket < 0)
            foreach (var b in bits) _counts[b >> 16]++;
        else
            foreach (var b in bits)
                if (b >> 16 == _bucket) _counts[b & (Buckets - 1)]++;
    }

    /// <summary>Ends a pass: after the first, the bucket of the k-th largest; after the second, its exact value.</summary>
    public void EndPass()
    {
        if (PassesLeft == 0) return;
        var wanted = _bucket < 0 ? _k : _rankInBucket;
        long above = 0;
        var key = Buckets - 1;
        for (; key >= 0; key--)
        {
            if (above + _counts[key] >= wanted) break;
            above += _counts[key];
        }
        if (key < 0) throw new InvalidOperationException($"fewer than {_k} values were observed");
        Array.Clear(_counts);
        if (_bucket < 0)
        {
            _bucket = key;
            _rankInBucket = wanted - above;
            return;
        }
        _value = BitConverter.Int32BitsToSingle((_bucket << 16) | key);
        _rankInBucket = 0;
    }
}
