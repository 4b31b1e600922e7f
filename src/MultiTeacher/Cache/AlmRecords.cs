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
        var next = zeros(batch, length, dtype: ScalarType.Int64);
        for (var b = 0; b < batch; b++)
            if (ids[b].Length > 1) next[b, ..(ids[b].Length - 1)] = tensor(ids[b][1..].Select(i => (long)i).ToArray());
        var observed = logProbs.gather(2, next.to(logProbs.device).unsqueeze(2)).squeeze(2).to(float32).cpu();                      // (B, T)
        var boundary = logProbs.masked_fill(boundaryMask.to(logProbs.device).logical_not(), double.NegativeInfinity).logsumexp(2)    // (B, T)
            .to(float32).cpu();
        var o = observed.contiguous().data<float>().ToArray();
        var m = boundary.contiguous().data<float>().ToArray();
        var records = new AlmPosition[batch][];
        for (var b = 0; b < batch; b++)
        {
            var record = records[b] = new AlmPosition[ids[b].Length];
            for (var t = 0; t < record.Length; t++)
                record[t] = new AlmPosition(t + 1 < record.Length ? o[b * length + t] : 0f, m[b * length + t]);
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
