using MultiTeacher.Mixing;

namespace MultiTeacher.Tests.Mixing;

/// <summary>
/// Per-sequence weights of per-teacher terms against values worked out on paper. Two teachers A, B
/// (recipe weights 3 and 1), two sequences of 100 bytes:
///   sequence 0: A 1.0 bits/byte, confidence 0.5;   B 2.0 bits/byte, confidence 0.25
///   sequence 1: A 3.0 bits/byte, confidence 0.2;   B 1.5 bits/byte, confidence 0.8
/// τ = 0.5 (so τ and 1/τ give different weights).
/// </summary>
[Trait("Category", TestCategory.Unit)]
public class TermWeightsTests
{
    private static readonly double[] Fixed = [3, 1];
    private static readonly SequenceScore[][] Scores =
    [
        [new(100, 1.0, 0.5), new(100, 3.0, 0.2)],
        [new(100, 2.0, 0.25), new(100, 1.5, 0.8)],
    ];

    private static double[][] Weights(MixingPolicyKind policy, double gate = 0, SequenceScore[][]? scores = null) =>
        TermWeights.Compute(new MixingSettings { Policy = policy, Temperature = 0.5, GateBitsPerByte = gate }, Fixed, 2, scores ?? Scores);

    private static void Expect(double[][] expected, double[][] actual)
    {
        for (var k = 0; k < expected.Length; k++)
            for (var s = 0; s < expected[k].Length; s++)
                Assert.True(Math.Abs(expected[k][s] - actual[k][s]) < 1e-12, $"teacher {k}, sequence {s}: expected {expected[k][s]}, got {actual[k][s]}");
    }

    [Fact]
    public void AvgCe_WeighsByExpOfMinusBitsPerByteOverTau()
    {
        // Sequence 0: e^(−1/0.5) : e^(−2/0.5) = e^−2 : e^−4, so A = 1 / (1 + e^−2) = 0.8807971.
        // Sequence 1: e^−6 : e^−3, so B = 1 / (1 + e^−3) = 0.9525741.
        // exp(+x) would give A 0.1192029; τ = 2 instead of 0.5 would give A 1 / (1 + e^−0.5) = 0.6224593.
        Expect([[0.8807970779778823, 1 - 0.9525741268224334], [1 - 0.8807970779778823, 0.9525741268224334]], Weights(MixingPolicyKind.AvgCe));
    }

    [Fact]
    public void MinCe_TakesTheTeacherWithTheFewestBitsPerByte_InEachSequence()
    {
        Expect([[1, 0], [0, 1]], Weights(MixingPolicyKind.MinCe));
    }

    [Fact]
    public void MinCe_BreaksATieToTheFirstTeacher()
    {
        SequenceScore[][] tied = [[new(10, 1.0, 0.5), new(10, 1.0, 0.5)], [new(10, 1.0, 0.5), new(10, 1.0, 0.5)]];
        Expect([[1, 1], [0, 0]], Weights(MixingPolicyKind.MinCe, scores: tied));
    }

    [Fact]
    public void Confidence_WeighsByConfidenceToTheOneOverTau()
    {
        // w ∝ c^(1/0.5) = c²: sequence 0: 0.25 : 0.0625, A = 0.8; sequence 1: 0.04 : 0.64, A = 1/17.
        // c^0.5 (τ instead of 1/τ) would give A 0.5857864 in sequence 0; c^−2 would give A 0.2.
        Expect([[0.8, 1.0 / 17], [0.2, 16.0 / 17]], Weights(MixingPolicyKind.Confidence));
    }

    [Fact]
    public void WeightedAndUniform_GiveTheSameWeightsToEverySequence()
    {
        Expect([[0.75, 0.75], [0.25, 0.25]], Weights(MixingPolicyKind.Weighted));
        Expect([[0.5, 0.5], [0.5, 0.5]], Weights(MixingPolicyKind.Uniform));
        Expect([[0.5], [0.5]], TermWeights.Compute(new MixingSettings { Policy = MixingPolicyKind.Weighted }, [0, 0], 1, null));
    }

    [Fact]
    public void Gate_SwitchesATeacherOffWhereItsBitsPerByteAreAboveTheThreshold()
    {
        // Gate 2.5: A (3.0) is off in sequence 1, so B carries it alone; sequence 0 keeps 3 : 1.
        Expect([[0.75, 0], [0.25, 1]], Weights(MixingPolicyKind.Weighted, gate: 2.5));
        // Gate 1.8: B (2.0) is off in sequence 0 and A (3.0) in sequence 1, so each keeps one teacher.
        Expect([[1, 0], [0, 1]], Weights(MixingPolicyKind.Uniform, gate: 1.8));
        // A teacher exactly at the threshold stays on.
        Expect([[0.75, 0.75], [0.25, 0.25]], Weights(MixingPolicyKind.Weighted, gate: 3.0));
    }

    [Fact]
    public void EveryTeacherGatedOff_LeavesTheSequenceWithoutDistillation()
    {
        Expect([[0, 0], [0, 0]], Weights(MixingPolicyKind.AvgCe, gate: 0.5));
        // Gate 1.2: sequence 0 keeps A (1.0); in sequence 1 both (3.0, 1.5) are off.
        Expect([[1, 0], [0, 0]], Weights(MixingPolicyKind.MinCe, gate: 1.2));
    }

    [Fact]
    public void ATeacherThatScoredNothingOfASequence_IsAbsentThere()
    {
        SequenceScore[][] scores = [[new(0, double.NaN, double.NaN), new(100, 3.0, 0.2)], Scores[1]];
        Expect([[0, 0.75], [1, 0.25]], Weights(MixingPolicyKind.Weighted, scores: scores));
        Expect([[0, 1 - 0.9525741268224334], [1, 0.9525741268224334]], Weights(MixingPolicyKind.AvgCe, scores: scores));
    }

    [Fact]
    public void PoliciesThatNeedTheText_AreRefusedWithoutScores_AndProductAlways()
    {
        foreach (var policy in new[] { MixingPolicyKind.AvgCe, MixingPolicyKind.MinCe, MixingPolicyKind.Confidence })
            Assert.Throws<ArgumentException>(() => TermWeights.Compute(new MixingSettings { Policy = policy }, Fixed, 1, null));
        Assert.Throws<ArgumentException>(() => TermWeights.Compute(new MixingSettings { Policy = MixingPolicyKind.Weighted, GateBitsPerByte = 2 }, Fixed, 1, null));
        Assert.Throws<ArgumentException>(() => TermWeights.Compute(new MixingSettings { Policy = MixingPolicyKind.Product }, Fixed, 2, Scores));
    }
}
