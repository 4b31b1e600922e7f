using MultiTeacher.Runtime;
using static TorchSharp.torch;

namespace MultiTeacher.Cache;

/// <summary>
/// What likelihood matching needs of one teacher position t: log p(token t+1 | tokens ≤ t), the
/// observed next token (0 at the last position, which has none), and the log of the probability
/// mass on tokens that begin at a word boundary (see Tokenization.BoundaryMask).
/// </summary>
public readonly record struct AlmPosition(float ObservedLogProb, float BoundaryLogMass);

/// <summary>Per-position ALM records from a model's log-probabilities.</summary>
public static class AlmRecords
{
    /// <summary>
    /// Records of a right-padded batch: <paramref name="logProbs"/> (B, T, V) log-softmax outputs,
    /// <paramref name="ids"/> the tokens of each sequence (length ≤ T), <paramref name="boundaryMask"/>
    /// (V) bool. Only the first ids[b].Length positions of row b are read.
    /// </summary>
    public static AlmPosition[][] FromLogProbs(Tensor logProbs, IReadOnlyList<int[]> ids, Tensor boundaryMask)
    {
        using var scope = NewDisposeScope();
        var (batch, length) = ((int)logProbs.shape[0], (int)logProbs.shape[1]);
        var (observed, boundary) = Reduce(logProbs.reshape(batch * length, -1), NextTokens(ids, length), boundaryMask);
        return Assemble(observed, boundary, ids, length);
    }

    /// <summary>
    /// Token t + 1 of each sequence at flat position b·<paramref name="length"/> + t (0 where none
    /// follows): the observed token each position's record scores.
    /// </summary>
    public static long[] NextTokens(IReadOnlyList<int[]> ids, int length)
    {
        var next = new long[ids.Count * length];
        for (var b = 0; b < ids.Count; b++)
            for (var t = 0; t + 1 < ids[b].Length; t++) next[b * length + t] = ids[b][t + 1];
        return next;
    }

    /// <summary>
    /// Per row of <paramref name="logProbs"/> (n, V): the log-probability of its <paramref name="next"/>
    /// token and the log of the mass on boundary tokens, read back as floats.
    /// </summary>
    public static (float[] Observed, float[] Boundary) Reduce(Tensor logProbs, long[] next, Tensor boundaryMask)
    {
        using var scope = NewDisposeScope();
        var device = logProbs.device;
        var observed = logProbs.gather(1, tensor(next, device: device).unsqueeze(1)).squeeze(1).to(float32);                          // (n)
        var boundary = logProbs.masked_fill(boundaryMask.to(device).logical_not(), Scalars.NegativeInfinity).logsumexp(1).to(float32);  // (n)
        return (observed.cpu().data<float>().ToArray(), boundary.cpu().data<float>().ToArray());
    }

    /// <summary>Per sequence, its records from flat per-position values (b·<paramref name="length"/> + t); the last position has no observed token.</summary>
    public static AlmPosition[][] Assemble(float[] observed, float[] boundary, IReadOnlyList<int[]> ids, int length)
    {
        var records = new AlmPosition[ids.Count][];
        for (var b = 0; b < ids.Count; b++)
        {
            var record = records[b] = new AlmPosition[ids[b].Length];
            for (var t = 0; t < record.Length; t++)
                record[t] = new AlmPosition(t + 1 < record.Length ? observed[b * length + t] : 0f, boundary[b * length + t]);
        }
        return records;
    }

    /// <summary>Records of one sequence: <paramref name="logProbs"/> (T, V) and its T token ids.</summary>
    public static AlmPosition[] FromLogProbs(Tensor logProbs, int[] ids, Tensor boundaryMask)
    {
        using var scope = NewDisposeScope();
        return FromLogProbs(logProbs.unsqueeze(0), [ids], boundaryMask)[0];
    }
}

/// <summary>
/// Two bytes per log-probability: −log p in fixed point with a step of 2⁻¹⁰ nat, so the rounding
/// error is at most 2⁻¹¹ ≈ 0.0005 nat at any magnitude (half-precision floats lose 0.016 nat
/// near −50). Values below −64 nat (probability under 1.6e-28) saturate there.
/// </summary>
public static class AlmCodec
{
    public const double Step = 1.0 / 1024;
    public const int BytesPerPosition = 4;

    public static ushort Encode(float logProb) =>
        float.IsNaN(logProb) ? ushort.MaxValue : (ushort)Math.Clamp(Math.Round(-logProb / Step), 0, ushort.MaxValue);

    public static float Decode(ushort level) => (float)(-level * Step);

    public static AlmPosition Quantize(AlmPosition p) =>
        new(Decode(Encode(p.ObservedLogProb)), Decode(Encode(p.BoundaryLogMass)));

    public static byte[] EncodeRecord(AlmPosition[] record)
    {
        var bytes = new byte[record.Length * BytesPerPosition];
        for (var t = 0; t < record.Length; t++)
        {
            BitConverter.TryWriteBytes(bytes.AsSpan(t * 4), Encode(record[t].ObservedLogProb));
            BitConverter.TryWriteBytes(bytes.AsSpan(t * 4 + 2), Encode(record[t].BoundaryLogMass));
        }
        return bytes;
    }

    public static AlmPosition[] DecodeRecord(ReadOnlySpan<byte> block, int positions)
    {
        var record = new AlmPosition[positions];
        for (var t = 0; t < positions; t++)
            record[t] = new AlmPosition(Decode(BitConverter.ToUInt16(block[(t * 4)..])), Decode(BitConverter.ToUInt16(block[(t * 4 + 2)..])));
        return record;
    }
}
