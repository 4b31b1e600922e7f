using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace MultiTeacher.Merging;

/// <summary>
/// TIES' trim thresholds of one tensor, exactly: for each model the k-th largest |θᵢ − θ_base|, in
/// one vectorised pass over the entries that also checks every input for NaN and Inf. Evenly spaced
/// runs of entries give a sample whose quantiles bracket the answer in [lo, hi]; the pass counts the
/// entries above hi, equal to hi, equal to lo, and keeps only those strictly between (about 1% of
/// them), among which <see cref="KthLargest"/> finds the exact value. When the count shows the sample
/// missed (the k-th largest lies outside the bracket, or too many entries fall inside it),
/// <see cref="KthLargest"/>'s two passes over every entry give it instead.
/// </summary>
internal static class TrimThreshold
{
    private const int Chunk = 1 << 16;

    /// <summary>The sample: this many evenly spaced runs of this many entries (the whole tensor when it is not larger).</summary>
    internal const int Runs = 64, RunLength = 2048;
    private static readonly int Width = Vector256<float>.Count;

    /// <summary>
    /// The thresholds for keeping the ks[i] largest entries of each model (k ≤ 0: +∞, nothing kept),
    /// reading entries a block at a time and handing each finished block to <paramref name="done"/>;
    /// <paramref name="nonFinite"/> has bit 0 set when the base holds NaN or Inf, bit i+1 for model i.
    /// </summary>
    public static float[] Find(FloatReader theta0, IReadOnlyList<FloatReader> models, long[] ks, long blockEntries, Action<long, long> done, out int nonFinite)
    {
        var n = theta0.Count;
        var readers = models.ToArray();
        // Each model's sample is sorted on its own core: for the many small tensors of a model, the sorts cost as much as the pass.
        var brackets = new (float Lo, float Hi)[readers.Length];
        Parallel.For(0, readers.Length, m => brackets[m] = Bracket(theta0, readers[m], ks[m]));
        var counts = readers.Select(_ => new Counts()).ToArray();
        var cap = Math.Max(n / 16, Chunk);
        var bad = 0;
        for (long from = 0; from < n; from += blockEntries)
        {
            var count = Math.Min(blockEntries, n - from);
            Parallel.For(0, (int)((count + Chunk - 1) / Chunk), () => readers.Select(_ => new Counts()).ToArray(), (c, _, local) =>
            {
                var start = from + (long)c * Chunk;
                var length = (int)Math.Min(Chunk, from + count - start);
                var flags = 0;
                for (var m = 0; m < readers.Length; m++)
                {
                    if (Pass(theta0, readers[m], start, length, ks[m] > 0 ? brackets[m] : null, local[m], cap, out var baseBad)) flags |= 1 << (m + 1);
                    if (baseBad) flags |= 1;
                }
                if (flags != 0) Interlocked.Or(ref bad, flags);
                return local;
            }, local =>
            {
                lock (counts)
                    for (var m = 0; m < readers.Length; m++) counts[m].Add(local[m]);
            });
            done(from, count);
        }
        nonFinite = bad;
        var thresholds = new float[readers.Length];
        for (var m = 0; m < readers.Length; m++)
            thresholds[m] = ks[m] <= 0 ? float.PositiveInfinity : Select(counts[m], brackets[m], ks[m], cap) ?? TwoPasses(theta0, readers[m], ks[m], blockEntries, done);
        return thresholds;
    }

    /// <summary>
    /// One model over entries [start, start + length): tallies its magnitudes against the bracket (none:
    /// only the NaN and Inf check) into <paramref name="counts"/>. True when the model holds NaN or Inf
    /// there; <paramref name="baseBad"/> when the base does.
    /// </summary>
    private static bool Pass(FloatReader theta0, FloatReader model, long start, int length, (float Lo, float Hi)? bracket, Counts counts, long cap, out bool baseBad)
    {
        var (lo, hi) = bracket is { } b ? (Vector256.Create(b.Lo), Vector256.Create(b.Hi)) : (Vector256<float>.Zero, Vector256<float>.Zero);
        var (badBase, badModel) = (Vector256<uint>.Zero, Vector256<uint>.Zero);
        var (above, atHi, atLo) = (Vector256<int>.Zero, Vector256<int>.Zero, Vector256<int>.Zero);
        var j = 0;
        for (; j <= length - Width; j += Width)
        {
            var t0 = theta0.Load(start + j, ref badBase);
            var v = model.Load(start + j, ref badModel);
            if (bracket is null) continue;
            var magnitude = Vector256.Abs(v - t0);
            var equalHi = Vector256.Equals(magnitude, hi);
            above -= Vector256.GreaterThan(magnitude, hi).AsInt32();
            atHi -= equalHi.AsInt32();
            atLo -= Vector256.AndNot(Vector256.Equals(magnitude, lo), equalHi).AsInt32();
            // About one vector in twelve holds a lane inside the bracket: only those lanes are visited.
            for (var inside = (Vector256.GreaterThan(magnitude, lo) & Vector256.LessThan(magnitude, hi)).ExtractMostSignificantBits(); inside != 0; inside &= inside - 1)
                counts.Keep(magnitude[BitOperations.TrailingZeroCount(inside)], cap);
        }
        if (j < length)
        {
            var t0 = theta0.LoadPartial(start + j, length - j, ref badBase);
            var v = model.LoadPartial(start + j, length - j, ref badModel);
            if (bracket is not null)
            {
                var magnitude = Vector256.Abs(v - t0);
                for (var l = 0; l < length - j; l++) counts.Count(magnitude[l], bracket.Value, cap);
            }
        }
        counts.Above += Vector256.Sum(above);
        counts.AtHi += Vector256.Sum(atHi);
        counts.AtLo += Vector256.Sum(atLo);
        baseBad = badBase != Vector256<uint>.Zero;
        return badModel != Vector256<uint>.Zero;
    }

    /// <summary>lo and hi: sample quantiles about four standard errors either side of the k-th largest's rank.</summary>
    private static (float Lo, float Hi) Bracket(FloatReader theta0, FloatReader model, long k)
    {
        var n = theta0.Count;
        if (k <= 0) return (0, 0);
        var runs = n <= (long)Runs * RunLength ? 1 : Runs;
        var length = runs == 1 ? (int)n : RunLength;
        var sample = new float[runs * length];
        var t0 = new float[length];
        for (var r = 0; r < runs; r++)
        {
            var start = runs == 1 ? 0 : r * (n - length) / (runs - 1);
            var into = sample.AsSpan(r * length, length);
            theta0.Read(start, t0);
            model.Read(start, into);
            TensorPrimitives.Subtract(into, t0, into);
            TensorPrimitives.Abs(into, into);
        }
        var s = sample.Length;
        var fraction = Math.Min(1, (double)k / n);
        var rank = s - fraction * s;   // ascending position of the k-th largest
        var margin = 4 * Math.Sqrt(s * fraction * (1 - fraction)) + 16;
        var bits = MemoryMarshal.Cast<float, uint>(sample.AsSpan());
        var lo = rank - margin <= 0 ? 0f : Ordered(bits, (int)(rank - margin));
        var hi = rank + margin >= s - 1 ? float.PositiveInfinity : Ordered(bits, (int)Math.Ceiling(rank + margin));
        return (lo, hi);
    }

    /// <summary>The sample's value at ascending position <paramref name="position"/>, as a sort would place it: its (s − position)-th largest.</summary>
    private static float Ordered(ReadOnlySpan<uint> bits, int position)
    {
        var select = new KthLargest(bits.Length - position);
        while (select.PassesLeft > 0)
        {
            select.Observe(bits);
            select.EndPass();
        }
        return select.Value;
    }

    /// <summary>The k-th largest from the counts, or null when it lies outside the bracket or too many entries fell inside.</summary>
    private static float? Select(Counts counts, (float Lo, float Hi) bracket, long k, long cap)
    {
        if (counts.Overflow || counts.Size > cap || k <= counts.Above) return null;
        if (k <= counts.Above + counts.AtHi) return bracket.Hi;
        var between = counts.Kept.Sum(l => (long)l.Count);
        if (k <= counts.Above + counts.AtHi + between)
        {
            var select = new KthLargest(k - counts.Above - counts.AtHi);
            while (select.PassesLeft > 0)
            {
                foreach (var list in counts.Kept) select.Observe(MemoryMarshal.Cast<float, uint>(CollectionsMarshal.AsSpan(list)));
                select.EndPass();
            }
            return select.Value;
        }
        return k <= counts.Above + counts.AtHi + between + counts.AtLo ? bracket.Lo : null;
    }

    private static float TwoPasses(FloatReader theta0, FloatReader model, long k, long blockEntries, Action<long, long> done)
    {
        var select = new KthLargest(k);
        while (select.PassesLeft > 0)
        {
            for (long from = 0; from < theta0.Count; from += blockEntries)
            {
                var count = Math.Min(blockEntries, theta0.Count - from);
                TaskVectorKernel.ObserveMagnitudes(theta0, model, select, from, count);
                done(from, count);
            }
            select.EndPass();
        }
        return select.Value;
    }

    private sealed class Counts
    {
        public long Above, AtHi, AtLo, Size;
        public bool Overflow;
        public readonly List<List<float>> Kept = [[]];

        /// <summary>Counts one magnitude.</summary>
        public void Count(float v, (float Lo, float Hi) bracket, long cap)
        {
            if (v > bracket.Hi) Above++;
            else if (v == bracket.Hi) AtHi++;
            else if (v == bracket.Lo) AtLo++;
            else Between(v, bracket, cap);
        }

        /// <summary>Keeps a value strictly inside the bracket, until more than the cap were seen.</summary>
        public void Between(float v, (float Lo, float Hi) bracket, long cap)
        {
            if (v > bracket.Lo && v < bracket.Hi) Keep(v, cap);
        }

        /// <summary>Keeps a value known to lie strictly inside the bracket.</summary>
        public void Keep(float v, long cap)
        {
            if (++Size > cap) Overflow = true;
            else Kept[0].Add(v);
        }

        public void Add(Counts other)
        {
            (Above, AtHi, AtLo, Size) = (Above + other.Above, AtHi + other.AtHi, AtLo + other.AtLo, Size + other.Size);
            Overflow |= other.Overflow;
            Kept.AddRange(other.Kept);
        }
    }
}
