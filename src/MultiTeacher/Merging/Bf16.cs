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
    /// <summary>Eight values rounded.</summary>
    public static Vector128<ushort> Round(Vector256<float> values)
    {
        var bits = values.AsUInt32();
        var rounded = Vector256.ShiftRightLogical(bits + Vector256.Create(0x7FFFu) + (Vector256.ShiftRightLogical(bits, 16) & Vector256<uint>.One), 16);
        rounded = Vector256.ConditionalSelect(Vector256.Equals(values, values).AsUInt32(), rounded, Vector256.Create(0x7FC0u));
        return Vector256.Narrow(rounded, rounded).GetLower();
    }

    public static void Round(ReadOnlySpan<float> values, Span<ushort> into)
    {
        var i = 0;
        for (; i <= values.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            Round(Vector256.Create<float>(values.Slice(i))).CopyTo(into.Slice(i));
        var bits = MemoryMarshal.Cast<float, uint>(values);
        for (; i < values.Length; i++)
            into[i] = float.IsNaN(values[i]) ? (ushort)0x7FC0 : (ushort)((bits[i] + 0x7FFF + ((bits[i] >> 16) & 1)) >> 16);
    }
}
