namespace MultiTeacher.Cache;

/// <summary>One position's teacher distribution as stored: top entries (id, log-prob) and the mass outside them.</summary>
public sealed record CachedPosition(int[] Ids, float[] LogProbs, float Tail);

/// <summary>
/// Compact coding of one position's top-k: entries past the point where they cover all but
/// <see cref="DropMass"/> of the top-k mass move into the tail; the kept ids are sorted and
/// delta-coded as varints; log-probs are 8-bit steps of <see cref="Step"/> nats below the
/// position's maximum (fp16); the tail mass is fp16. Quantisation shifts any log-prob by at most
/// Step/2, which bounds the KL to the exact top-k by about (Step/2)²/2 plus the dropped mass.
/// </summary>
public static class TopKCodec
{
    public const float Step = 0.05f;
    public const double DropMass = 2e-4;

    public static void Encode(ReadOnlySpan<int> idSpan, ReadOnlySpan<float> logProbSpan, float tail, Stream output)
    {
        var (ids, logProbs) = (idSpan.ToArray(), logProbSpan.ToArray());
        var order = Enumerable.Range(0, ids.Length).OrderByDescending(i => logProbs[i]).ToArray();
        double total = 0;
        foreach (var lp in logProbs) total += Math.Exp(lp);
        var keep = 0;
        double kept = 0;
        while (keep < order.Length && (keep == 0 || kept < total * (1 - DropMass)))
            kept += Math.Exp(logProbs[order[keep++]]);
        var chosen = order[..keep].OrderBy(i => ids[i]).ToArray();
        var max = logProbs[order[0]];
        var storedTail = (float)Math.Clamp(tail + (total - kept), 0, 1);

        output.WriteByte((byte)(keep - 1));
        WriteHalf(output, (Half)max);
        WriteHalf(output, (Half)storedTail);
        var previous = 0;
        foreach (var i in chosen)
        {
            WriteVarint(output, (uint)(ids[i] - previous));
            previous = ids[i];
        }
        var top = (float)(Half)max;
        foreach (var i in chosen) output.WriteByte((byte)Math.Clamp(MathF.Round((top - logProbs[i]) / Step), 0, 255));
    }

    public static CachedPosition Decode(ref ReadOnlySpan<byte> input)
    {
        var count = input[0] + 1;
        var max = (float)BitConverter.ToHalf(input[1..3]);
        var tail = (float)BitConverter.ToHalf(input[3..5]);
        input = input[5..];
        var ids = new int[count];
        var previous = 0;
        for (var i = 0; i < count; i++) ids[i] = previous += (int)ReadVarint(ref input);
        var logProbs = new float[count];
        for (var i = 0; i < count; i++) logProbs[i] = max - input[i] * Step;
        input = input[count..];
        return new CachedPosition(ids, logProbs, tail);
    }

    private static void WriteHalf(Stream s, Half h)
    {
        Span<byte> b = stackalloc byte[2];
        BitConverter.TryWriteBytes(b, h);
        s.Write(b);
    }

    private static void WriteVarint(Stream s, uint v)
    {
        while (v >= 0x80) { s.WriteByte((byte)(v | 0x80)); v >>= 7; }
        s.WriteByte((byte)v);
    }

    private static uint ReadVarint(ref ReadOnlySpan<byte> input)
    {
        uint v = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = input[0];
            input = input[1..];
            v |= (uint)(b & 0x7F) << shift;
            if (b < 0x80) return v;
            if (shift > 28) throw new InvalidDataException("varint longer than 5 bytes");
        }
    }

    /// <summary>
    /// KL(exact ‖ decoded) over the full vocabulary, both densified the way training does: listed
    /// entries as given (renormalised to sum with the tail to one), the tail spread evenly over
    /// every other token.
    /// </summary>
    public static double Kl(ReadOnlySpan<int> ids, ReadOnlySpan<float> logProbs, float tail, CachedPosition decoded, int vocab)
    {
        var exact = new Dictionary<int, double>();
        for (var i = 0; i < ids.Length; i++) exact[ids[i]] = Math.Exp(logProbs[i]);
        var exactTailShare = tail / Math.Max(1, vocab - exact.Count);
        var approx = new Dictionary<int, double>();
        for (var i = 0; i < decoded.Ids.Length; i++) approx[decoded.Ids[i]] = Math.Exp(decoded.LogProbs[i]);
        var norm = approx.Values.Sum() + decoded.Tail;
        var approxTailShare = decoded.Tail / Math.Max(1, vocab - approx.Count) / norm;
        double kl = 0, coveredExact = 0;
        foreach (var (id, p) in exact)
        {
            var q = approx.TryGetValue(id, out var a) ? a / norm : approxTailShare;
            kl += p * Math.Log(p / q);
            coveredExact += p;
        }
        // Tokens outside the exact top-k carry exactTailShare each; those the decoder lists carry their own mass.
        var outside = vocab - exact.Count;
        var listedOutside = approx.Keys.Where(id => !exact.ContainsKey(id)).ToList();
        foreach (var id in listedOutside) kl += exactTailShare * Math.Log(exactTailShare / (approx[id] / norm));
        var rest = outside - listedOutside.Count;
        if (exactTailShare > 0 && rest > 0) kl += rest * exactTailShare * Math.Log(exactTailShare / approxTailShare);
        return kl;
    }
}
