using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using static TorchSharp.torch;

namespace MultiTeacher.Merging;

/// <summary>
/// One task vector as the fused kernel reads it: either a fine-tuned tensor trimmed at a magnitude
/// threshold and weighted (wᵢ·δᵢ computed entry by entry), or weighted deltas already computed
/// (DARE's random drops come from libtorch's generator, so they are drawn there).
/// </summary>
internal readonly record struct KernelInput(FloatReader Values, float Weight, float Threshold, bool Precomputed);

/// <summary>
/// The task-vector combination of <see cref="TaskVectorMerge"/> in one pass over the entries, a
/// chunk per thread, instead of a chain of whole-tensor operations: merging a 16 M-entry block
/// through libtorch took about 25 float32 temporaries of 64 MB each and 1.6 s on two cores. The
/// fused pass reads each input once, keeps every intermediate of eight entries in registers (no
/// buffer of a chunk is written and read back) and writes the result once in the output dtype.
/// </summary>
internal static class TaskVectorKernel
{
    private const int Chunk = 1 << 16;
    private static readonly int Width = Vector256<float>.Count;

    /// <summary>
    /// θ_base + λ·mixed over entries [start, start + output's size), mixed being TIES' disjoint mean
    /// (signConsensus) or the plain weighted sum, divided as the options say, stored into
    /// <paramref name="output"/> (contiguous float32 or bfloat16, rounded to nearest even as libtorch
    /// rounds). Returns the inputs holding NaN or Inf in that range: bit 0 the base, bit i+1 model i.
    /// </summary>
    public static unsafe int Merge(FloatReader theta0, IReadOnlyList<KernelInput> models, bool signConsensus, bool normalize, float lambda, long start, Tensor output)
    {
        var n = output.numel();
        var bf16 = output.dtype == ScalarType.BFloat16;
        if (!bf16 && output.dtype != ScalarType.Float32) throw new ArgumentException($"the kernel writes float32 or bfloat16, not {output.dtype}");
        var into = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(output.bytes));
        var weightSum = models.Sum(m => (double)m.Weight);
        var p = new Combination([.. models], signConsensus, normalize, lambda, Math.Abs(weightSum) < 1e-8 ? 1f : (float)weightSum);
        var nonFinite = 0;
        Parallel.For(0, (int)((n + Chunk - 1) / Chunk), c =>
        {
            var offset = (long)c * Chunk;
            var length = (int)Math.Min(Chunk, n - offset);
            Span<Vector256<float>> values = stackalloc Vector256<float>[p.Models.Length];
            Span<Vector256<uint>> bad = stackalloc Vector256<uint>[p.Models.Length + 1];
            bad.Clear();
            var j = 0;
            for (; j <= length - Width; j += Width)
            {
                var at = start + offset + j;
                var t0 = theta0.Load(at, ref bad[0]);
                for (var m = 0; m < values.Length; m++) values[m] = p.Models[m].Values.Load(at, ref bad[m + 1]);
                Store(Combine(t0, values, p), into, offset + j, Width, bf16);
            }
            if (j < length)
            {
                // The tail goes through the same vector arithmetic, its lanes past the end zero.
                var at = start + offset + j;
                var t0 = theta0.LoadPartial(at, length - j, ref bad[0]);
                for (var m = 0; m < values.Length; m++) values[m] = p.Models[m].Values.LoadPartial(at, length - j, ref bad[m + 1]);
                Store(Combine(t0, values, p), into, offset + j, length - j, bf16);
            }
            var flags = 0;
            for (var i = 0; i < bad.Length; i++)
                if (bad[i] != Vector256<uint>.Zero) flags |= 1 << i;
            if (flags != 0) Interlocked.Or(ref nonFinite, flags);
        });
        return nonFinite;
    }

    /// <summary>What <see cref="Combine"/> needs besides the entries.</summary>
    private sealed record Combination(KernelInput[] Models, bool SignConsensus, bool Normalize, float Lambda, float PlainDivisor);

    /// <summary>
    /// Eight entries merged, given θ_base and each model's values (overwritten with wᵢ·δᵢ): δ = θᵢ − θ_base
    /// with entries below the trim threshold in magnitude set to zero. TIES' elected sign of an entry
    /// is that of Σᵢ wᵢδᵢ (a zero sum counts as positive); mixed sums the wᵢδᵢ of that sign and the
    /// divisor their wᵢ (1 where none agrees; a zero entry agrees with neither sign). Else mixed is
    /// Σᵢ wᵢδᵢ over Σᵢ wᵢ. The result is θ_base + λ·(mixed / divisor when normalizing, else mixed).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Combine(Vector256<float> t0, Span<Vector256<float>> values, Combination p)
    {
        var total = Vector256<float>.Zero;
        for (var m = 0; m < values.Length; m++)
        {
            var model = p.Models[m];
            if (!model.Precomputed)
            {
                var delta = values[m] - t0;
                values[m] = (delta * model.Weight) & Vector256.GreaterThanOrEqual(Vector256.Abs(delta), Vector256.Create(model.Threshold));
            }
            total += values[m];
        }
        Vector256<float> mixed, divisor;
        if (p.SignConsensus)
        {
            (mixed, divisor) = (Vector256<float>.Zero, Vector256<float>.Zero);
            var positive = Vector256.GreaterThanOrEqual(total, Vector256<float>.Zero);
            for (var m = 0; m < values.Length; m++)
            {
                var d = values[m];
                var agrees = Vector256.ConditionalSelect(positive, Vector256.GreaterThan(d, Vector256<float>.Zero), Vector256.LessThan(d, Vector256<float>.Zero));
                mixed += d & agrees;
                divisor += Vector256.Create(p.Models[m].Weight) & agrees;
            }
            divisor = Vector256.ConditionalSelect(Vector256.Equals(divisor, Vector256<float>.Zero), Vector256<float>.One, divisor);
        }
        else (mixed, divisor) = (total, Vector256.Create(p.PlainDivisor));
        if (p.Normalize) mixed /= divisor;
        return t0 + mixed * p.Lambda;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Store(Vector256<float> values, byte* into, long at, int count, bool bf16)
    {
        if (count == Width)
        {
            if (bf16) Bf16.Round(values).Store((ushort*)into + at);
            else values.Store((float*)into + at);
            return;
        }
        if (bf16)
        {
            var rounded = Bf16.Round(values);
            for (var i = 0; i < count; i++) ((ushort*)into)[at + i] = rounded[i];
        }
        else for (var i = 0; i < count; i++) ((float*)into)[at + i] = values[i];
    }

    /// <summary>Counts |θᵢ − θ_base| of entries [from, from + count) for the selection's pass in progress.</summary>
    public static void ObserveMagnitudes(FloatReader theta0, FloatReader model, KthLargest select, long from, long count)
    {
        var (t0, magnitudes) = (new float[Chunk], new float[Chunk]);
        for (var start = from; start < from + count; start += Chunk)
        {
            var length = (int)Math.Min(Chunk, from + count - start);
            var b = t0.AsSpan(0, length);
            var m = magnitudes.AsSpan(0, length);
            theta0.Read(start, b);
            model.Read(start, m);
            TensorPrimitives.Subtract(m, b, m);
            TensorPrimitives.Abs(m, m);
            select.Observe(MemoryMarshal.Cast<float, uint>(m));
        }
    }
}
