using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using MultiTeacher.Checkpoints;
using static TorchSharp.torch;

namespace MultiTeacher.Merging;

/// <summary>
/// Reads float32 or bfloat16 values as float32, a range at a time, straight from where they lie: a
/// contiguous CPU tensor's memory (other dtypes are converted to float32 once) or a tensor's bytes in
/// a memory-mapped checkpoint, which are never copied whole.
/// </summary>
internal sealed unsafe class FloatReader : IDisposable
{
    private readonly Tensor? _tensor;
    private readonly byte* _data;
    private readonly bool _bf16;

    public FloatReader(Tensor tensor)
    {
        _bf16 = tensor.dtype == ScalarType.BFloat16;
        _tensor = (_bf16 || tensor.dtype == ScalarType.Float32 ? tensor : tensor.to(ScalarType.Float32)).contiguous().DetachFromDisposeScope();
        _data = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(_tensor.bytes));
        Count = _tensor.numel();
    }

    public FloatReader(MappedTensor mapped)
    {
        if (!Readable(mapped.Entry.DType)) throw new ArgumentException($"'{mapped.Entry.Name}' is {mapped.Entry.DType}: only BF16 and F32 are read in place");
        _bf16 = mapped.Entry.DType == "BF16";
        _data = mapped.Data;
        Count = mapped.Entry.Elements;
    }

    /// <summary>Whether a stored dtype (F32, BF16, F16) is read in place.</summary>
    public static bool Readable(string dtype) => dtype is "BF16" or "F32";

    public long Count { get; }

    /// <summary>
    /// Entries [start, start + into.Length) as float32 (bf16 widens exactly: its 16 bits are the
    /// float's upper half); false when one of them is NaN or ±Inf (an exponent of all ones).
    /// </summary>
    public bool Read(long start, Span<float> into)
    {
        var wide = MemoryMarshal.Cast<float, uint>(into);
        var i = 0;
        if (!_bf16)
        {
            new ReadOnlySpan<uint>(_data + 4 * start, into.Length).CopyTo(wide);
            return AllBelow<uint>(wide, 0x7F80_0000u);
        }
        var bits = new ReadOnlySpan<ushort>(_data + 2 * start, into.Length);
        var exponent = Vector256.Create((ushort)0x7F80);
        var bad = Vector256<ushort>.Zero;
        for (; i <= bits.Length - Vector256<ushort>.Count; i += Vector256<ushort>.Count)
        {
            var v = Vector256.Create<ushort>(bits.Slice(i));
            bad |= Vector256.Equals(v & exponent, exponent);
            var (lower, upper) = Vector256.Widen(v);
            Vector256.ShiftLeft(lower, 16).CopyTo(wide.Slice(i));
            Vector256.ShiftLeft(upper, 16).CopyTo(wide.Slice(i + Vector256<uint>.Count));
        }
        var finite = bad == Vector256<ushort>.Zero;
        for (; i < bits.Length; i++)
        {
            wide[i] = (uint)bits[i] << 16;
            finite &= (bits[i] & 0x7F80) != 0x7F80;
        }
        return finite;
    }

    /// <summary>Eight entries from <paramref name="index"/> as float32; <paramref name="bad"/> gains the lanes that are NaN or ±Inf.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Load(long index, ref Vector256<uint> bad)
    {
        var bits = _bf16
            ? Vector256.ShiftLeft(Vector256.WidenLower(Vector128.Load((ushort*)_data + index).ToVector256Unsafe()), 16)
            : Vector256.Load((uint*)_data + index);
        var exponent = Vector256.Create(0x7F80_0000u);
        bad |= Vector256.Equals(bits & exponent, exponent);
        return bits.AsSingle();
    }

    /// <summary>The <paramref name="count"/> (&lt; 8) entries from <paramref name="index"/>, the other lanes zero.</summary>
    public Vector256<float> LoadPartial(long index, int count, ref Vector256<uint> bad)
    {
        Span<float> lanes = stackalloc float[Vector256<float>.Count];
        lanes.Clear();
        if (!Read(index, lanes[..count])) bad |= Vector256<uint>.AllBitsSet;
        return Vector256.Create<float>(lanes);
    }

    /// <summary>
    /// Whether every entry is finite, read from the bit patterns for float32 and bfloat16; libtorch's
    /// isfinite().all() builds a bool tensor of the same size first, which cost more than merging the block.
    /// </summary>
    public static bool AllFinite(Tensor tensor)
    {
        if (tensor.dtype == ScalarType.BFloat16) return AllBelow(MemoryMarshal.Cast<byte, ushort>(tensor.contiguous().bytes), (ushort)0x7F80);
        if (tensor.dtype == ScalarType.Float32) return AllBelow(MemoryMarshal.Cast<byte, uint>(tensor.contiguous().bytes), 0x7F80_0000u);
        return isfinite(tensor).all().item<bool>();
    }

    private static bool AllBelow<T>(ReadOnlySpan<T> bits, T exponent) where T : unmanaged, System.Numerics.IBinaryInteger<T>
    {
        var mask = Vector256.Create(exponent);
        var i = 0;
        for (; i <= bits.Length - Vector256<T>.Count; i += Vector256<T>.Count)
            if (Vector256.EqualsAny(Vector256.Create<T>(bits.Slice(i)) & mask, mask)) return false;
        for (; i < bits.Length; i++)
            if ((bits[i] & exponent) == exponent) return false;
        return true;
    }

    public void Dispose() => _tensor?.Dispose();
}
