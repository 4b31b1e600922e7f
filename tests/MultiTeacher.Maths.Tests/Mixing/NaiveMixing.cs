namespace MultiTeacher.Tests.Mixing;

/// <summary>
/// The mixing policies written out as plain double loops over dense teacher distributions
/// q[k][n][v], straight from their definitions, to check <see cref="MultiTeacher.Mixing.MixingPolicy"/> against.
/// </summary>
internal static class NaiveMixing
{
    /// <summary>Normalised weights w[k][n] (zero where absent) and the blended target[n][v].</summary>
    public static (double[][] Weights, double[][] Target) Mix(string policy, double[][][] q, bool[][] present, double[][] goldLogProb,
        long[] sequence, double[] teacherWeights, double temperature, bool perSequence)
    {
        var (k, n, v) = (q.Length, q[0].Length, q[0][0].Length);
        var ce = CrossEntropy(goldLogProb, present, sequence, perSequence);
        var w = new double[k][];
        for (var t = 0; t < k; t++) w[t] = new double[n];
        for (var p = 0; p < n; p++)
        {
            var best = -1;
            for (var t = 0; t < k; t++)
                if (present[t][p] && (best < 0 || ce[t][p] < ce[best][p])) best = t;
            double sum = 0;
            for (var t = 0; t < k; t++)
            {
                if (!present[t][p]) continue;
                w[t][p] = policy switch
                {
                    "weighted" or "product" => teacherWeights[t],
                    "uniform" => 1,
                    "confidence" => Math.Exp(-Entropy(q[t][p]) / temperature),
                    "avg_ce" => Math.Exp(-ce[t][p] / temperature),
                    "min_ce" => t == best ? 1 : 0,
                    _ => throw new ArgumentException(policy),
                };
                sum += w[t][p];
            }
            for (var t = 0; t < k; t++) w[t][p] /= sum;
        }

        var target = new double[n][];
        for (var p = 0; p < n; p++)
        {
            target[p] = new double[v];
            for (var i = 0; i < v; i++)
            {
                if (policy == "product")
                {
                    // Weighted geometric mean, zeros floored at 1e-10, normalised below.
                    double log = 0;
                    for (var t = 0; t < k; t++) log += w[t][p] * Math.Log(Math.Max(q[t][p][i], 1e-10));
                    target[p][i] = Math.Exp(log);
                }
                else
                    for (var t = 0; t < k; t++) target[p][i] += w[t][p] * q[t][p][i];
            }
            var z = target[p].Sum();
            for (var i = 0; i < v; i++) target[p][i] /= z;
        }
        return (w, target);
    }

    /// <summary>H(q) = -Σ q ln q in nats.</summary>
    public static double Entropy(double[] q)
    {
        double h = 0;
        foreach (var x in q) if (x > 0) h -= x * Math.Log(x);
        return h;
    }

    /// <summary>Each teacher's cross-entropy on the gold token, or its mean over the positions of the sequence where that teacher is present.</summary>
    private static double[][] CrossEntropy(double[][] goldLogProb, bool[][] present, long[] sequence, bool perSequence)
    {
        var ce = goldLogProb.Select(row => row.Select(x => -x).ToArray()).ToArray();
        if (!perSequence) return ce;
        var result = new double[ce.Length][];
        for (var t = 0; t < ce.Length; t++)
        {
            result[t] = new double[ce[t].Length];
            for (var p = 0; p < ce[t].Length; p++)
            {
                double sum = 0;
                var count = 0;
                for (var o = 0; o < ce[t].Length; o++)
                    if (sequence[o] == sequence[p] && present[t][o]) { sum += ce[t][o]; count++; }
                result[t][p] = sum / Math.Max(1, count);
            }
        }
        return result;
    }
}
