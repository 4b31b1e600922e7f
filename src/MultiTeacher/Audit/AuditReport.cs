namespace MultiTeacher.Audit;

/// <summary>One recorded file or directory checked against its hash; Files names what changed inside a directory.</summary>
public sealed record IntegrityFinding(string Direction, string Role, string Kind, string Path, string Problem, IReadOnlyList<string> Files);

/// <summary>The first (step, metric) where the replay differs from the record.</summary>
public sealed record Divergence(int Step, string Metric, double Recorded, double Replayed)
{
    public double Difference => Math.Abs(Replayed - Recorded);
}

/// <summary>Per-step |replayed - recorded| loss over the compared steps (MathNet.Numerics statistics).</summary>
public sealed record DifferenceStatistics(double Mean, double Median, double P95, double Max, double MaxRelative);

/// <summary>What re-executing the recorded recipe gave.</summary>
public sealed record ReplayResult(int StepsCompared, int StepsRecorded, bool Full, int MetricsCompared, Divergence? FirstDivergence,
    DifferenceStatistics Loss, string? StudentSha256Recorded, string? StudentSha256Replayed, int Threads, IReadOnlyList<string> Notes);

/// <summary>An environment fact that differs between the run and the audit.</summary>
public sealed record EnvironmentDifference(string Key, string Recorded, string Current);

/// <summary>
/// The answer to "does this student come from exactly these inputs, and can we get it again":
/// integrity of every recorded file, a replay compared step by step, the environment, and a verdict.
/// </summary>
public sealed record AuditReport(long RunId, string Verdict, string Reason, double Tolerance, IReadOnlyList<IntegrityFinding> Integrity,
    ReplayResult? Replay, IReadOnlyList<EnvironmentDifference> Environment, DateTime AuditedAt)
{
    public static readonly string[] Verdicts = ["reproduced", "within-tolerance", "diverged", "tampered", "incomplete"];

    /// <summary>mt audit's exit code: 0 reproduced, 3 within tolerance, 4 diverged, 5 tampered, 6 incomplete (1 and 2 keep their meaning).</summary>
    public int ExitCode => Verdict switch
    {
        "reproduced" => 0,
        "within-tolerance" => 3,
        "diverged" => 4,
        "tampered" => 5,
        _ => 6,
    };
}
