using MultiTeacher.Audit;

namespace MultiTeacher.Tests.Audit;

/// <summary>Every verdict of <see cref="AuditJudge"/> from the findings that must produce it, and the loss statistics it judges by.</summary>
[Trait("Category", TestCategory.Unit)]
public class AuditJudgeTests
{
    private const double Tolerance = 1e-4;
    private static readonly IntegrityFinding[] None = [];

    private static IntegrityFinding Finding(string direction, string role, string problem) =>
        new(direction, role, "file", $"/data/{role}", problem, []);

    private static ReplayResult Replay(bool full = true, Divergence? first = null, double maxRelative = 0, string recorded = "abc", string replayed = "abc", int steps = 4) =>
        new(steps, steps, full, steps * 3, first, new DifferenceStatistics(0, 0, 0, 0, maxRelative),
            full ? recorded : null, full ? replayed : null, Threads: 2, Notes: []);

    [Fact]
    public void BitIdenticalFullReplay_IsReproduced_WithExitCode0()
    {
        var (verdict, reason) = AuditJudge.Judge(None, None, Replay(), Tolerance);
        Assert.Equal(("reproduced", "all 4 steps and the student bit-identical"), (verdict, reason));
        Assert.Equal(0, Report(verdict).ExitCode);
    }

    [Fact]
    public void BitIdenticalPartialReplay_IsReproduced_WithoutComparingTheStudent()
    {
        var (verdict, reason) = AuditJudge.Judge(None, None, Replay(full: false, steps: 2), Tolerance);
        Assert.Equal(("reproduced", "first 2 steps bit-identical"), (verdict, reason));
    }

    [Fact]
    public void SmallLossDifference_IsWithinTolerance_NamingTheFirstDifference_WithExitCode3()
    {
        // Recorded 2.0, replayed 2.0001: relative difference 5e-5 ≤ 1e-4.
        var first = new Divergence(3, "loss", 2.0, 2.0001);
        var (verdict, reason) = AuditJudge.Judge(None, None, Replay(first: first, maxRelative: 5e-5, replayed: "def"), Tolerance);
        Assert.Equal("within-tolerance", verdict);
        Assert.Equal("largest relative loss difference 5.00E-005 ≤ 1.00E-004; first difference at step 3 (loss); student bytes differ", reason);
        Assert.Equal(3, Report(verdict).ExitCode);
    }

    [Fact]
    public void SmallLossDifference_WithTheSameStudent_IsWithinTolerance_WithoutMentioningTheStudent()
    {
        var first = new Divergence(3, "loss", 2.0, 2.0001);
        var (verdict, reason) = AuditJudge.Judge(None, None, Replay(first: first, maxRelative: 5e-5), Tolerance);
        Assert.Equal(("within-tolerance", "largest relative loss difference 5.00E-005 ≤ 1.00E-004; first difference at step 3 (loss)"), (verdict, reason));
    }

    [Fact]
    public void SeveralMissingInputs_AreCountedAndListed()
    {
        var (verdict, reason) = AuditJudge.Judge(None, [Finding("used", "data.eval", "missing"), Finding("used", "teacher:a", "missing")], null, Tolerance);
        Assert.Equal(("incomplete", "2 input(s) missing: data.eval, teacher:a; no replay"), (verdict, reason));
    }

    [Fact]
    public void DifferenceExactlyAtTheTolerance_IsStillWithinTolerance()
    {
        var first = new Divergence(1, "loss", 1.0, 1.0001);
        Assert.Equal("within-tolerance", AuditJudge.Judge(None, None, Replay(first: first, maxRelative: Tolerance), Tolerance).Verdict);
        Assert.Equal("diverged", AuditJudge.Judge(None, None, Replay(first: first, maxRelative: Tolerance * 1.01), Tolerance).Verdict);
    }

    [Fact]
    public void StudentBytesDifferingAlone_AreNotReproduced()
    {
        // Every metric identical, but a full replay wrote another student: not "reproduced".
        var (verdict, reason) = AuditJudge.Judge(None, None, Replay(replayed: "def"), Tolerance);
        Assert.Equal(("within-tolerance", "largest relative loss difference 0.00E+000 ≤ 1.00E-004; student bytes differ"), (verdict, reason));
    }

    [Fact]
    public void LargeLossDifference_HasDiverged_NamingStepAndValues_WithExitCode4()
    {
        // Recorded 2.5, replayed 2.75: relative difference 0.1 > 1e-4.
        var first = new Divergence(2, "loss", 2.5, 2.75);
        var (verdict, reason) = AuditJudge.Judge(None, None, Replay(first: first, maxRelative: 0.1), Tolerance);
        Assert.Equal(("diverged", "step 2 loss: recorded 2.5, replayed 2.75; largest relative loss difference 1.00E-001"), (verdict, reason));
        Assert.Equal(4, Report(verdict).ExitCode);
        Assert.Equal(0.25, first.Difference, 12);
    }

    [Fact]
    public void DifferentStudentBeyondTolerance_WithoutAMetricDifference_HasDiverged()
    {
        var (verdict, reason) = AuditJudge.Judge(None, None, Replay(replayed: "def", maxRelative: 0.5), Tolerance);
        Assert.Equal(("diverged", "the student's bytes differ"), (verdict, reason));
    }

    [Fact]
    public void AlteredOrVanishedProducedFile_IsTampered_BeforeAnyMissingInput_WithExitCode5()
    {
        IntegrityFinding[] tampered = [Finding("produced", "student", "altered"), Finding("used", "teacher:llama", "altered")];
        var (verdict, reason) = AuditJudge.Judge(tampered, [Finding("used", "data.eval", "missing")], null, Tolerance);
        Assert.Equal(("tampered", "2 recorded file(s) altered or gone: student, teacher:llama"), (verdict, reason));
        Assert.Equal(5, Report(verdict).ExitCode);
    }

    [Fact]
    public void MissingInput_IsIncomplete_WithoutAReplay_WithExitCode6()
    {
        var (verdict, reason) = AuditJudge.Judge(None, [Finding("used", "data.eval", "missing")], null, Tolerance);
        Assert.Equal(("incomplete", "1 input(s) missing: data.eval; no replay"), (verdict, reason));
        Assert.Equal(6, Report(verdict).ExitCode);
    }

    [Fact]
    public void EveryListedVerdict_HasItsOwnExitCode()
    {
        Assert.Equal([0, 3, 4, 5, 6], AuditReport.Verdicts.Select(v => Report(v).ExitCode));
    }

    [Fact]
    public void LossDifferences_MatchHandComputedStatistics()
    {
        // |Δ| = 0.5, 1, 0, 3 → mean 1.125, median (0.5 + 1) / 2 = 0.75, max 3;
        // relative: 0.5/2, 1/-4, 0/1, 3/6 → the largest is 0.5 (sign of the recorded value ignored).
        (double, double)[] losses = [(2, 2.5), (-4, -3), (1, 1), (6, 3)];
        var s = AuditJudge.LossDifferences(losses);
        Assert.Equal(1.125, s.Mean, 12);
        Assert.Equal(0.75, s.Median, 12);
        Assert.Equal(3, s.Max, 12);
        Assert.Equal(0.5, s.MaxRelative, 12);
    }

    [Fact]
    public void LossDifferences_P95_InterpolatesBetweenTheTopTwoOfTwentyOne()
    {
        // |Δ| = 0, 1, ..., 20. The median-unbiased estimate (R8): h = (21 + 1/3)·0.95 + 1/3 = 20.6,
        // so x(20) + 0.6·(x(21) − x(20)) = 19 + 0.6 = 19.6 with 1-based order statistics.
        var losses = Enumerable.Range(0, 21).Select(i => (10.0, 10.0 + i)).ToList();
        var s = AuditJudge.LossDifferences(losses);
        Assert.Equal(19.6, s.P95, 9);
        Assert.Equal(10, s.Median, 12);
        Assert.Equal(2.0, s.MaxRelative, 12);
    }

    [Fact]
    public void LossDifferences_OfNothingCompared_AreZero_AndAZeroRecordedLossDoesNotDivideByZero()
    {
        Assert.Equal(new DifferenceStatistics(0, 0, 0, 0, 0), AuditJudge.LossDifferences([]));
        // Recorded 0, replayed 1e-12: the denominator is floored at 1e-12, so the relative difference is 1.
        Assert.Equal(1, AuditJudge.LossDifferences([(0, 1e-12)]).MaxRelative, 12);
    }

    private static AuditReport Report(string verdict) => new(1, verdict, "", Tolerance, [], null, [], DateTime.UnixEpoch);
}
