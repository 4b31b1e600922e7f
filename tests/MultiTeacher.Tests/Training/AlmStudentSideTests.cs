using MultiTeacher.Cache;
using MultiTeacher.Training;
using static TorchSharp.torch;

namespace MultiTeacher.Tests.Training;

/// <summary>One student side read for several teachers' plans, on the two-chunk case of <see cref="AlmLossTests"/>.</summary>
[Trait("Category", TestCategory.Unit)]
public class AlmStudentSideTests
{
    private static readonly Tensor Mask = tensor(new[] { true, false, false, true });
    private static readonly AlmPosition[] Halves = [AlmLossTests.P(0.5, 0.5), AlmLossTests.P(0.5, 0.5), AlmLossTests.P(0.5, 0.5), AlmLossTests.P(1, 0.5)];

    private static AlmChunkPlan Plan(AlmPosition[] teacher, int[] studentIds, bool debias = false)
    {
        var plan = new AlmChunkPlan(new AlmSettings(1, 0, debias));
        plan.Add(AlmLossTests.TwoChunks, studentIds, teacher, rowOffset: 0);
        return plan;
    }

    [Fact]
    public void TwoTeachersOnOneSide_GetTheirOwnHandComputedLosses()
    {
        // Plain chunk KLs (p_T, p_S): first teacher (0.2, 0.125), (0.4, 0.4): mean 0.0111555;
        // second (0.5, 0.125), (0.25, 0.4): (0.4133393 + 0.0498568) / 2 = 0.2315980.
        using var scope = NewDisposeScope();
        var logProbs = tensor(AlmLossTests.StudentProbs.SelectMany(r => r).ToArray(), [4, 4], float64).log();
        var (first, second) = (Plan(AlmLossTests.TeacherRecords, [0, 1, 2, 3]), Plan(Halves, [0, 1, 2, 3]));
        var side = AlmStudentSide.For(logProbs, [first, second], Mask);
        Assert.Null(side.Boundary);
        Assert.Equal(0.0111555, AlmLoss.PerChunk(side, first).mean().item<double>(), tolerance: 1e-6);
        Assert.Equal(0.2315980, AlmLoss.PerChunk(side, second).mean().item<double>(), tolerance: 1e-6);
    }

    [Fact]
    public void PlansThatDisagreeOnAnObservedToken_AreRefused()
    {
        using var scope = NewDisposeScope();
        var logProbs = tensor(AlmLossTests.StudentProbs.SelectMany(r => r).ToArray(), [4, 4], float64).log();
        var e = Assert.Throws<ArgumentException>(() => AlmStudentSide.For(logProbs, [Plan(AlmLossTests.TeacherRecords, [0, 1, 2, 3]), Plan(Halves, [0, 1, 3, 3])], Mask));
        Assert.Contains("row 1", e.Message);
    }

    [Fact]
    public void ADebiasedPlan_NeedsTheBoundaryProbabilities()
    {
        using var scope = NewDisposeScope();
        var logProbs = tensor(AlmLossTests.StudentProbs.SelectMany(r => r).ToArray(), [4, 4], float64).log();
        var plain = AlmStudentSide.For(logProbs, [Plan(AlmLossTests.TeacherRecords, [0, 1, 2, 3])], Mask);
        Assert.Throws<ArgumentException>(() => AlmLoss.PerChunk(plain, Plan(AlmLossTests.TeacherRecords, [0, 1, 2, 3], debias: true)));
    }
}
