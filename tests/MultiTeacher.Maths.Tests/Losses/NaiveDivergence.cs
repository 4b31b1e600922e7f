namespace MultiTeacher.Tests.Losses;

/// <summary>
/// The divergences of <see cref="MultiTeacher.Losses.DistillationLoss"/> written out as plain double
/// loops over full distributions, straight from their definitions, to check the tensor code against.
/// </summary>
internal static class NaiveDivergence
{
    private const double Floor = 1e-10;

    /// <summary>Mean over rows of D(target_T, softmax(logits / T)) · T².</summary>
    public static double Of(string kind, double[][] logits, double[][] target, double temperature, double beta)
    {
        double total = 0;
        for (var n = 0; n < logits.Length; n++)
        {
            var q = Softmax(logits[n], temperature);
            var p = Temper(target[n], temperature);
            total += kind switch
            {
                "forward_kl" => Kl(p, q),
                "reverse_kl" => Kl(q, p),
                "jsd" => Jsd(p, q, beta),
                "tv" => Tv(p, q),
                _ => throw new ArgumentException(kind),
            };
        }
        return total / logits.Length * temperature * temperature;
    }

    /// <summary>KL(a‖b) = Σ a_i ln(a_i / b_i); terms with a_i = 0 vanish, b_i is floored at 1e-10 as in training.</summary>
    public static double Kl(double[] a, double[] b)
    {
        double kl = 0;
        for (var i = 0; i < a.Length; i++)
            if (a[i] > 0) kl += a[i] * (Math.Log(a[i]) - Math.Log(Math.Max(b[i], Floor)));
        return kl;
    }

    private static double Jsd(double[] p, double[] q, double beta)
    {
        var m = new double[p.Length];
        for (var i = 0; i < p.Length; i++) m[i] = beta * p[i] + (1 - beta) * q[i];
        return beta * Kl(p, m) + (1 - beta) * Kl(q, m);
    }

    private static double Tv(double[] p, double[] q)
    {
        double sum = 0;
        for (var i = 0; i < p.Length; i++) sum += Math.Abs(p[i] - q[i]);
        return sum / 2;
    }

    public static double[] Softmax(double[] logits, double temperature)
    {
        var max = logits.Max();
        var e = new double[logits.Length];
        double z = 0;
        for (var i = 0; i < e.Length; i++) z += e[i] = Math.Exp((logits[i] - max) / temperature);
        for (var i = 0; i < e.Length; i++) e[i] /= z;
        return e;
    }

    /// <summary>p^{1/T} renormalised; zeros stay zero.</summary>
    public static double[] Temper(double[] p, double temperature)
    {
        var r = new double[p.Length];
        double z = 0;
        for (var i = 0; i < p.Length; i++) z += r[i] = p[i] > 0 ? Math.Pow(p[i], 1 / temperature) : 0;
        for (var i = 0; i < p.Length; i++) r[i] = z > 0 ? r[i] / z : 0;
        return r;
    }
}
