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
/// through libtorch took about 25 float32 temporaries of 64 MB each and 1.6 s on two cores; the
/// fused pass reads each input once and writes the result once.
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
        var nonFinite = 0;
        var weightSum = models.Sum(m => (double)m.Weight);
        var plainDivisor = Math.Abs(weightSum) < 1e-8 ? 1f : (float)weightSum;
        var weights = models.Select(m => m.Weight).ToArray();
        var chunks = (int)((n + Chunk - 1) / Chunk);
        Parallel.For(0, chunks, () => new Buffers(models.Count), (c, _, buffers) =>
        {
            var offset = (long)c * Chunk;
            var length = (int)Math.Min(Chunk, n - offset);
            var t0 = buffers.Base.AsSpan(0, length);
            var bad = theta0.Read(start + offset, t0) ? 0 : 1;
            for (var m = 0; m < models.Count; m++)
                if (!WeightedDelta(models[m], t0, start + offset, buffers.Deltas[m].AsSpan(0, length))) bad |= 2 << m;
            if (bad != 0) Interlocked.Or(ref nonFinite, bad);
            var mixed = buffers.Mixed.AsSpan(0, length);
            var divisor = buffers.Divisor.AsSpan(0, length);
            mixed.Clear();
            if (signConsensus) DisjointSum(buffers, weights, length);
            else
            {
                foreach (var delta in buffers.Deltas) Add(mixed, delta.AsSpan(0, length));
                divisor.Fill(plainDivisor);
            }
            Finish(t0, mixed, divisor, normalize, lambda, mixed);
            if (bf16) Bf16.Round(mixed, new Span<ushort>(into + 2 * offset, length));
            else mixed.CopyTo(new Span<float>(into + 4 * offset, length));
            return buffers;
        }, _ => { });
        return nonFinite;
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
    private static bool WeightedDelta(KernelInput model, ReadOnlySpan<float> theta0, long start, Span<float> into)
    {
        var finite = model.Values.Read(start, into);
        if (model.Precomputed) return finite;
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
        return finite;
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

    private sealed class Buffers(int models)
    {
        public readonly float[] Base = new float[Chunk], Total = new float[Chunk], Mixed = new float[Chunk], Divisor = new float[Chunk];
        public readonly float[][] Deltas = Enumerable.Range(0, models).Select(_ => new float[Chunk]).ToArray();
    }
}
