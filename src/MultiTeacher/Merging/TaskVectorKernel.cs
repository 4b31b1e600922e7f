using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
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
/// Reads a contiguous CPU tensor of float32 or bfloat16 as float32 values, a range at a time,
/// straight from the tensor's memory (other dtypes are converted to float32 once).
/// </summary>
internal sealed class FloatReader : IDisposable
{
    private readonly Tensor _tensor;
    private readonly bool _bf16;

    public FloatReader(Tensor tensor)
    {
        _bf16 = tensor.dtype == ScalarType.BFloat16;
        _tensor = (_bf16 || tensor.dtype == ScalarType.Float32 ? tensor : tensor.to(ScalarType.Float32)).contiguous().DetachFromDisposeScope();
    }

    public long Count => _tensor.numel();

    /// <summary>Entries [start, start + into.Length) as float32 (bf16 widens exactly: its 16 bits are the float's upper half).</summary>
    public void Read(long start, Span<float> into)
    {
        if (!_bf16)
        {
            MemoryMarshal.Cast<byte, float>(_tensor.bytes).Slice((int)start, into.Length).CopyTo(into);
            return;
        }
        var bits = MemoryMarshal.Cast<byte, ushort>(_tensor.bytes).Slice((int)start, into.Length);
        var wide = MemoryMarshal.Cast<float, uint>(into);
        var i = 0;
        for (; i <= bits.Length - Vector256<ushort>.Count; i += Vector256<ushort>.Count)
        {
            var (lower, upper) = Vector256.Widen(Vector256.Create<ushort>(bits.Slice(i)));
            Vector256.ShiftLeft(lower, 16).CopyTo(wide.Slice(i));
            Vector256.ShiftLeft(upper, 16).CopyTo(wide.Slice(i + Vector256<uint>.Count));
        }
        for (; i < bits.Length; i++) wide[i] = (uint)bits[i] << 16;
    }

    /// <summary>
    /// Whether every entry is finite, read from the bit patterns (an exponent of all ones is NaN or
    /// ±Inf) for float32 and bfloat16; libtorch's isfinite().all() builds a bool tensor of the same
    /// size first, which cost more than merging the block.
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

    public void Dispose() => _tensor.Dispose();
}

/// <summary>
/// The task-vector combination of <see cref="TaskVectorMerge"/> in one pass over the entries, a
/// chunk per thread, instead of a chain of whole-tensor operations: merging a 16 M-entry block
/// through libtorch took about 25 float32 temporaries of 64 MB each and 1.6 s on two cores; the
/// fused pass reads each input once and writes the result once.
/// </summary>
internal static class TaskVectorKernel
{
    private const int Chunk = 1 << 16;
    private static readonly int Width = Vector256<float>.Count;

    /// <summary>θ_base + λ·mixed, mixed being TIES' disjoint mean (signConsensus) or the plain weighted sum, divided as the options say.</summary>
    public static Tensor Merge(FloatReader theta0, IReadOnlyList<KernelInput> models, bool signConsensus, bool normalize, float lambda, long[] shape)
    {
        var n = theta0.Count;
        var output = empty(shape, ScalarType.Float32);
        var weightSum = models.Sum(m => (double)m.Weight);
        var plainDivisor = Math.Abs(weightSum) < 1e-8 ? 1f : (float)weightSum;
        var weights = models.Select(m => m.Weight).ToArray();
        var chunks = (int)((n + Chunk - 1) / Chunk);
        Parallel.For(0, chunks, () => new Buffers(models.Count), (c, _, buffers) =>
        {
            var start = (long)c * Chunk;
            var length = (int)Math.Min(Chunk, n - start);
            var t0 = buffers.Base.AsSpan(0, length);
            theta0.Read(start, t0);
            for (var m = 0; m < models.Count; m++) WeightedDelta(models[m], t0, start, buffers.Deltas[m].AsSpan(0, length));
            var mixed = buffers.Mixed.AsSpan(0, length);
            var divisor = buffers.Divisor.AsSpan(0, length);
            mixed.Clear();
            if (signConsensus) DisjointSum(buffers, weights, length);
            else
            {
                foreach (var delta in buffers.Deltas) Add(mixed, delta.AsSpan(0, length));
                divisor.Fill(plainDivisor);
            }
            Finish(t0, mixed, divisor, normalize, lambda, MemoryMarshal.Cast<byte, float>(output.bytes).Slice((int)start, length));
            return buffers;
        }, _ => { });
        return output;
    }

    /// <summary>
    /// TIES' election and disjoint sum over a chunk: the elected sign of an entry is that of Σᵢ wᵢδᵢ
    /// (a zero sum counts as positive); mixed sums the wᵢδᵢ of that sign and divisor their wᵢ (1 where
    /// none agrees). A zero entry agrees with neither sign.
    /// </summary>
    private static void DisjointSum(Buffers buffers, float[] weights, int length)
    {
        var total = buffers.Total.AsSpan(0, length);
        var mixed = buffers.Mixed.AsSpan(0, length);
        var divisor = buffers.Divisor.AsSpan(0, length);
        total.Clear();
        divisor.Clear();
        foreach (var delta in buffers.Deltas) Add(total, delta.AsSpan(0, length));
        for (var m = 0; m < weights.Length; m++)
        {
            var delta = buffers.Deltas[m].AsSpan(0, length);
            var w = weights[m];
            var j = 0;
            for (; j <= length - Width; j += Width)
            {
                var d = Vector256.Create<float>(delta.Slice(j));
                var positive = Vector256.GreaterThanOrEqual(Vector256.Create<float>(total.Slice(j)), Vector256<float>.Zero);
                var agrees = Vector256.ConditionalSelect(positive, Vector256.GreaterThan(d, Vector256<float>.Zero), Vector256.LessThan(d, Vector256<float>.Zero));
                (Vector256.Create<float>(mixed.Slice(j)) + (d & agrees)).CopyTo(mixed.Slice(j));
                (Vector256.Create<float>(divisor.Slice(j)) + (Vector256.Create(w) & agrees)).CopyTo(divisor.Slice(j));
            }
            for (; j < length; j++)
                if (total[j] >= 0 ? delta[j] > 0 : delta[j] < 0)
                {
                    mixed[j] += delta[j];
                    divisor[j] += w;
                }
        }
        for (var j = 0; j < length; j++)
            if (divisor[j] == 0) divisor[j] = 1;
    }

    /// <summary>θ_base + λ·(mixed / divisor when normalizing, else mixed).</summary>
    private static void Finish(ReadOnlySpan<float> theta0, ReadOnlySpan<float> mixed, ReadOnlySpan<float> divisor, bool normalize, float lambda, Span<float> into)
    {
        var j = 0;
        for (; j <= into.Length - Width; j += Width)
        {
            var m = Vector256.Create<float>(mixed.Slice(j));
            if (normalize) m /= Vector256.Create<float>(divisor.Slice(j));
            (Vector256.Create<float>(theta0.Slice(j)) + m * lambda).CopyTo(into.Slice(j));
        }
        for (; j < into.Length; j++) into[j] = theta0[j] + (normalize ? mixed[j] / divisor[j] : mixed[j]) * lambda;
    }

    private static void Add(Span<float> into, ReadOnlySpan<float> values) => TensorPrimitives.Add(into, values, into);

    /// <summary>wᵢ·δᵢ over a chunk: δ = θᵢ − θ_base, entries below the trim threshold in magnitude set to zero.</summary>
    private static void WeightedDelta(KernelInput model, ReadOnlySpan<float> theta0, long start, Span<float> into)
    {
        model.Values.Read(start, into);
        if (model.Precomputed) return;
        var (w, threshold) = (model.Weight, model.Threshold);
        var j = 0;
        for (; j <= into.Length - Width; j += Width)
        {
            var delta = Vector256.Create<float>(into.Slice(j)) - Vector256.Create<float>(theta0.Slice(j));
            var kept = Vector256.GreaterThanOrEqual(Vector256.Abs(delta), Vector256.Create(threshold));
            ((delta * w) & kept).CopyTo(into.Slice(j));
        }
        for (; j < into.Length; j++)
        {
            var delta = into[j] - theta0[j];
            into[j] = MathF.Abs(delta) >= threshold ? delta * w : 0f;
        }
    }

    /// <summary>The k-th largest |θᵢ − θ_base| of the whole tensor (TIES' trim threshold), in <see cref="KthLargest"/>'s two passes.</summary>
    public static float Threshold(FloatReader theta0, FloatReader model, long k)
    {
        var select = new KthLargest(k);
        while (select.PassesLeft > 0)
        {
            ObserveMagnitudes(theta0, model, select);
            select.EndPass();
        }
        return select.Value;
    }

    /// <summary>Counts |θᵢ − θ_base| of every entry for the selection's pass in progress.</summary>
    public static void ObserveMagnitudes(FloatReader theta0, FloatReader model, KthLargest select)
    {
        var (t0, magnitudes) = (new float[Chunk], new float[Chunk]);
        for (long start = 0; start < theta0.Count; start += Chunk)
        {
            var length = (int)Math.Min(Chunk, theta0.Count - start);
            var b = t0.AsSpan(0, length);
            var m = magnitudes.AsSpan(0, length);
            theta0.Read(start, b);
            model.Read(start, m);
            TensorPrimitives.Subtract(m, b, m);
            TensorPrimitives.Abs(m, m);
            select.Observe(MemoryMarshal.Cast<float, uint>(m));
        }
    }

    private sealed class Buffers(int models)
    {
        public readonly float[] Base = new float[Chunk], Total = new float[Chunk], Mixed = new float[Chunk], Divisor = new float[Chunk];
        public readonly float[][] Deltas = Enumerable.Range(0, models).Select(_ => new float[Chunk]).ToArray();
    }
}
