using MathNet.Numerics.Statistics;

namespace MultiTeacher.Audit;

/// <summary>The verdict of an audit from its findings alone: no database, no replay, so every verdict can be checked directly.</summary>
public static class AuditJudge
{
    /// <summary>
    /// tampered (a recorded file altered, or a produced one gone) before incomplete (an input gone, no
    /// replay); then reproduced when every compared metric is bit-identical (and, for a full replay, the
    /// student's hash), within-tolerance when the largest relative loss difference is at most
    /// <paramref name="tolerance"/>, diverged otherwise.
    /// </summary>
    public static (string Verdict, string Reason) Judge(IReadOnlyList<IntegrityFinding> tampered, IReadOnlyList<IntegrityFinding> missing,
        ReplayResult? replay, double tolerance)
    {
        if (tampered.Count > 0) return ("tampered", $"{tampered.Count} recorded file(s) altered or gone: {string.Join(", ", tampered.Select(f => f.Role))}");
        if (missing.Count > 0) return ("incomplete", $"{missing.Count} input(s) missing: {string.Join(", ", missing.Select(f => f.Role))}; no replay");
        var r = replay ?? throw new ArgumentException("an audit without missing inputs has a replay", nameof(replay));
        var studentMatches = !r.Full || r.StudentSha256Recorded == r.StudentSha256Replayed;
        if (r.FirstDivergence is null && studentMatches)
            return ("reproduced", r.Full ? $"all {r.StepsCompared} steps and the student bit-identical" : $"first {r.StepsCompared} steps bit-identical");
        if (r.Loss.MaxRelative <= tolerance)
            return ("within-tolerance", $"largest relative loss difference {r.Loss.MaxRelative:E2} ≤ {tolerance:E2}" +
                (r.FirstDivergence is { } d ? $"; first difference at step {d.Step} ({d.Metric})" : "") + (studentMatches ? "" : "; student bytes differ"));
        return ("diverged", r.FirstDivergence is { } f
            ? $"step {f.Step} {f.Metric}: recorded {f.Recorded:R}, replayed {f.Replayed:R}; largest relative loss difference {r.Loss.MaxRelative:E2}"
            : "the student's bytes differ");
    }

    /// <summary>|replayed − recorded| per compared step, and the largest difference relative to the recorded value; all zero when nothing was compared.</summary>
    public static DifferenceStatistics LossDifferences(IReadOnlyList<(double Recorded, double Replayed)> losses)
    {
        var abs = losses.Select(l => Math.Abs(l.Replayed - l.Recorded)).DefaultIfEmpty(0).ToArray();
        var relative = losses.Select(l => Math.Abs(l.Replayed - l.Recorded) / Math.Max(1e-12, Math.Abs(l.Recorded))).DefaultIfEmpty(0).Max();
        return new DifferenceStatistics(abs.Mean(), abs.Median(), abs.Quantile(0.95), abs.Maximum(), relative);
    }
}
