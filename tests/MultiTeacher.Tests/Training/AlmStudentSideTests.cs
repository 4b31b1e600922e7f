using MultiTeacher.Cache;
using MultiTeacher.Training;
using static TorchSharp.torch;

namespace MultiTeacher.Tests.Training;

/// <summary>One student side read for several teachers' plans, on the two-chunk case of <see cref="AlmLossTests"/>.</summary>
[Trait("Category", TestCategory.Unit)]
public class AlmStudentSideTests
{
    private static Tensor BoundaryIds => AlmStudentSide.BoundaryIds(tensor(new[] { true, false, false, true }));
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
        var side = AlmStudentSide.For(logProbs, [first, second], BoundaryIds);
        Assert.Null(side.Boundary);
        Assert.Equal(0.0111555, AlmLoss.PerChunk(side, first).mean().item<double>(), tolerance: 1e-6);
        Assert.Equal(0.2315980, AlmLoss.PerChunk(side, second).mean().item<double>(), tolerance: 1e-6);
    }

    [Fact]
    public void PlansThatDisagreeOnAnObservedToken_AreRefused()
    {
        using var scope = NewDisposeScope();
        var logProbs = tensor(AlmLossTests.StudentProbs.SelectMany(r => r).ToArray(), [4, 4], float64).log();
        var e = Assert.Throws<ArgumentException>(() => AlmStudentSide.For(logProbs, [Plan(AlmLossTests.TeacherRecords, [0, 1, 2, 3]), Plan(Halves, [0, 1, 3, 3])], BoundaryIds));
        Assert.Contains("row 1", e.Message);
    }

    [Fact]
    public void ADebiasedPlan_NeedsTheBoundaryProbabilities()
    {
        using var scope = NewDisposeScope();
        var logProbs = tensor(AlmLossTests.StudentProbs.SelectMany(r => r).ToArray(), [4, 4], float64).log();
        var plain = AlmStudentSide.For(logProbs, [Plan(AlmLossTests.TeacherRecords, [0, 1, 2, 3])], BoundaryIds);
        Assert.Throws<ArgumentException>(() => AlmLoss.PerChunk(plain, Plan(AlmLossTests.TeacherRecords, [0, 1, 2, 3], debias: true)));
    }
    [Fact]
    public void BoundaryMassOnEndRows_EqualsTheFullMaskedLogSumExp_ValuesAndGradients()
    {
        using var scope = NewDisposeScope();
        var g = new TorchSharp.torch.Generator(15);
        var (rowCount, vocab) = (9, 11);
        var mask = rand([vocab], generator: g).lt(0.4);
        var weights = randn([rowCount], dtype: float64, generator: g);
        long[] ends = [0, 3, 4, 8];
        var fast = (randn([rowCount, vocab], dtype: float64, generator: g) * 2).requires_grad_();
        var naive = fast.detach().clone().requires_grad_();

        var boundary = AlmStudentSide.BoundaryAt(nn.functional.log_softmax(fast, 1), ends, AlmStudentSide.BoundaryIds(mask));
        var at = tensor(ends);
        (boundary.index_select(0, at) * weights.index_select(0, at)).sum().backward();
        // The straightforward reading: every row, the whole (R, V) log-probabilities with non-boundary ids at −∞.
        var reference = nn.functional.log_softmax(naive, 1).masked_fill(mask.logical_not(), double.NegativeInfinity).logsumexp(1);
        (reference.index_select(0, at) * weights.index_select(0, at)).sum().backward();

        var logits = naive.detach();
        for (var r = 0; r < rowCount; r++)
        {
            if (!ends.Contains(r)) { Assert.True(double.IsNaN(boundary[r].item<double>()), $"row {r} is no chunk end"); continue; }
            double all = 0, onBoundary = 0;
            for (var v = 0; v < vocab; v++)
            {
                var e = Math.Exp(logits[r, v].item<double>());
                all += e;
                if (mask[v].item<bool>()) onBoundary += e;
            }
            Assert.Equal(Math.Log(onBoundary / all), boundary[r].item<double>(), tolerance: 1e-12);
        }
        Assert.True(fast.grad!.allclose(naive.grad!, rtol: 1e-10, atol: 1e-12), "gradients differ from the full masked reading");
        Assert.True(fast.grad!.abs().sum().item<double>() > 0);
    }
}
