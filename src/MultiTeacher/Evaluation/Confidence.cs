using MathNet.Numerics.Distributions;
using MathNet.Numerics.Statistics;

namespace MultiTeacher.Evaluation;

/// <summary>A mean with its two-sided Student-t confidence interval over N values.</summary>
public sealed record Interval(double Mean, double Low, double High, int Count);

/// <summary>Mean of paired differences a − b with its confidence interval, the paired t-test's two-sided p-value, and how often a &lt; b.</summary>
public sealed record PairedDifference(double Mean, double Low, double High, double PValue, int Count, int Lower);

/// <summary>
/// Statistics over documents for held-out comparisons (MathNet.Numerics): each document is one
/// observation, so an interval says how far a figure could move on other text of the same kind.
/// Two models scored on the same documents are compared by paired differences, which removes the
/// documents' own difficulty from the noise.
/// </summary>
public static class Confidence
{
    public static Interval Mean(IReadOnlyList<double> values, double level = 0.95)
    {
        if (values.Count < 2) throw new ArgumentException("an interval needs at least two values");
        var mean = values.Mean();
        var half = Critical(values.Count, level) * values.StandardDeviation() / Math.Sqrt(values.Count);
        return new Interval(mean, mean - half, mean + half, values.Count);
    }

    public static PairedDifference Paired(IReadOnlyList<double> a, IReadOnlyList<double> b, double level = 0.95)
    {
        if (a.Count != b.Count) throw new ArgumentException($"paired values need equal counts ({a.Count} against {b.Count})");
        var d = a.Zip(b, (x, y) => x - y).ToList();
        var interval = Mean(d, level);
        var se = d.StandardDeviation() / Math.Sqrt(d.Count);
        var p = se == 0 ? (interval.Mean == 0 ? 1 : 0) : 2 * (1 - StudentT.CDF(0, 1, d.Count - 1, Math.Abs(interval.Mean / se)));
        return new PairedDifference(interval.Mean, interval.Low, interval.High, p, d.Count, d.Count(x => x < 0));
    }

    private static double Critical(int n, double level) => StudentT.InvCDF(0, 1, n - 1, 1 - (1 - level) / 2);
}
