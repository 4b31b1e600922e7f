namespace MultiTeacher.Cache;

/// <summary>One position's teacher distribution as stored: top entries (id, log-prob) and the mass outside them.</summary>
public sealed record CachedPosition(int[] Ids, float[] LogProbs, float Tail);

/// <summary>One position after quantisation: kept teacher ids by decreasing probability, their levels, and the tail's level.</summary>
public sealed record QuantizedPosition(int[] Ids, int[] Levels, int TailLevel);

/// <summary>
/// Lossy coding of one position's top-k within a KL budget. Probabilities are quantised in the
/// square-root domain (level = round(√p · <see cref="Levels"/>)): the KL cost of a rounding error
/// there is about 2ε² whatever the probability, so coarse steps on rare tokens cost as much as fine
/// ones on likely tokens. The least likely entries move into the tail, which training spreads
/// evenly over the rest of the vocabulary, as long as the exact KL(exact top-k ‖ decoded) over the
/// full vocabulary stays within <see cref="KlBudget"/>; the encoder computes it for every candidate
/// length, so the bound holds for each position, not on average.
/// </summary>
public static class TopKCodec
{
    public const int LevelBits = 8;
    public const int Levels = 1 << LevelBits;
    public const int TailLevels = 4096;
    public const double KlBudget = 5e-4;

    public static QuantizedPosition Quantize(ReadOnlySpan<int> ids, ReadOnlySpan<float> logProbs, float tail, int vocab)
    {
        var k = ids.Length;
        var (lp, idArray) = (logProbs.ToArray(), ids.ToArray());
        var order = Enumerable.Range(0, k).OrderByDescending(i => lp[i]).ThenBy(i => idArray[i]).ToArray();
        var p = new double[k];
        var levels = new int[k];
        var plogp = new double[k];
        var plogq = new double[k];
        var q = new double[k];
        for (var j = 0; j < k; j++)
        {
            p[j] = Math.Exp(lp[order[j]]);
            levels[j] = Math.Clamp((int)Math.Round(Math.Sqrt(p[j]) * Levels), 1, Levels);
            q[j] = Square(levels[j] / (double)Levels);
            plogp[j] = p[j] > 0 ? p[j] * Math.Log(p[j]) : 0;
            plogq[j] = p[j] * Math.Log(q[j]);
        }
        var suffixMass = new double[k + 1];
        var suffixPlogp = new double[k + 1];
        for (var j = k - 1; j >= 0; j--) (suffixMass[j], suffixPlogp[j]) = (suffixMass[j + 1] + p[j], suffixPlogp[j + 1] + plogp[j]);

        // KL for keeping the first n entries, from running sums: every term is O(1) per n.
        double mass = 0, sumPlogp = 0, sumPlogq = 0, sumQ = 0, bestKl = double.PositiveInfinity;
        int bestN = k, bestTail = 0;
        for (var n = 1; n <= k; n++)
        {
            (mass, sumPlogp, sumPlogq, sumQ) = (mass + p[n - 1], sumPlogp + plogp[n - 1], sumPlogq + plogq[n - 1], sumQ + q[n - 1]);
            var tailLevel = TailLevel(tail + suffixMass[n], vocab - n);
            var kl = KlOfPrefix(n, k, vocab, tail, mass, sumPlogp, sumPlogq, sumQ, suffixMass[n], suffixPlogp[n], tailLevel);
            if (kl < bestKl) (bestKl, bestN, bestTail) = (kl, n, tailLevel);
            if (kl <= KlBudget) break;
        }
        var keptIds = new int[bestN];
        for (var j = 0; j < bestN; j++) keptIds[j] = ids[order[j]];
        return new QuantizedPosition(keptIds, levels[..bestN], bestTail);
    }

    private static int TailLevel(double mass, int outside)
        => outside <= 0 || mass <= 0 ? 0 : Math.Clamp((int)Math.Round(Math.Sqrt(Math.Min(1, mass)) * TailLevels), 1, TailLevels);

    private static double KlOfPrefix(int n, int k, int vocab, double tail, double mass, double sumPlogp, double sumPlogq, double sumQ,
        double droppedMass, double droppedPlogp, int tailLevel)
    {
        var decodedTail = Square(tailLevel / (double)TailLevels);
        var z = sumQ + decodedTail;
        var kl = sumPlogp - sumPlogq + mass * Math.Log(z);
        if (droppedMass + tail <= 0) return kl;
        if (decodedTail <= 0) return double.PositiveInfinity;
        var logShare = Math.Log(decodedTail / z / (vocab - n));   // each token outside the kept entries
        kl += droppedPlogp - droppedMass * logShare;
        if (tail > 0 && vocab > k) kl += tail * (Math.Log(tail / (vocab - k)) - logShare);
        return kl;
    }

    public static CachedPosition Dequantize(QuantizedPosition q)
    {
        var n = q.Ids.Length;
        var probs = new double[n];
        double z = 0;
        for (var j = 0; j < n; j++) z += probs[j] = Square(q.Levels[j] / (double)Levels);
        var tail = Square(q.TailLevel / (double)TailLevels);
        z += tail;
        var logProbs = new float[n];
        for (var j = 0; j < n; j++) logProbs[j] = (float)Math.Log(probs[j] / z);
        return new CachedPosition(q.Ids, logProbs, (float)(tail / z));
    }

    private static double Square(double x) => x * x;

    /// <summary>
    /// KL(exact ‖ decoded) over the full vocabulary, both densified the way training does: listed
    /// entries as given (renormalised to sum with the tail to one), the tail spread evenly over
    /// every other token. Independent of the encoder's running sums, so tests can check them.
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
        double kl = 0;
        foreach (var (id, p) in exact)
        {
            var q = approx.TryGetValue(id, out var a) ? a / norm : approxTailShare;
            if (p > 0) kl += p * Math.Log(p / q);
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
