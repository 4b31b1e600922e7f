using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MultiTeacher.Merging;

/// <summary>
/// float32 to bfloat16 as libtorch converts it (c10::BFloat16): round to nearest, ties to even, by
/// adding 0x7FFF plus the kept half's lowest bit before truncating; NaN becomes the quiet NaN 0x7FC0.
/// Writing the merged values straight into the output this way spares a float32 copy of every
/// tensor and a conversion pass over it.
/// </summary>
internal static class Bf16
{
    public static void Round(ReadOnlySpan<float> values, Span<ushort> into)
    {
        var bits = MemoryMarshal.Cast<float, uint>(values);
        var (one, bias, nan) = (Vector256.Create(1u), Vector256.Create(0x7FFFu), Vector256.Create(0x7FC0u));
        var i = 0;
        for (; i <= values.Length - 2 * Vector256<uint>.Count; i += 2 * Vector256<uint>.Count)
        {
            var lower = Rounded(Vector256.Create<uint>(bits.Slice(i)), Vector256.Create<float>(values.Slice(i)), one, bias, nan);
            var upper = Rounded(Vector256.Create<uint>(bits.Slice(i + Vector256<uint>.Count)), Vector256.Create<float>(values.Slice(i + Vector256<uint>.Count)), one, bias, nan);
            Vector256.Narrow(lower, upper).CopyTo(into.Slice(i));
        }
        for (; i < values.Length; i++)
            into[i] = float.IsNaN(values[i]) ? (ushort)0x7FC0 : (ushort)((bits[i] + 0x7FFF + ((bits[i] >> 16) & 1)) >> 16);
    }

    private static Vector256<uint> Rounded(Vector256<uint> bits, Vector256<float> value, Vector256<uint> one, Vector256<uint> bias, Vector256<uint> nan)
    {
        var rounded = Vector256.ShiftRightLogical(bits + bias + (Vector256.ShiftRightLogical(bits, 16) & one), 16);
        return Vector256.ConditionalSelect(Vector256.Equals(value, value).AsUInt32(), rounded, nan);
    }
}
