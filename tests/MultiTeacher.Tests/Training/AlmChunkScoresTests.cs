using MultiTeacher.Alignment;
using MultiTeacher.Cache;
using MultiTeacher.Training;
using static TorchSharp.torch;

namespace MultiTeacher.Tests.Training;

/// <summary>
/// What the per-teacher policies read of an alm plan, and how they weigh its chunks, on the
/// two-chunk case of <see cref="AlmLossTests"/> (chunk A: bytes [0, 2), teacher token 1; chunk B:
/// byte [2, 3), teacher tokens 2 and 3) worked out by hand. Sequence 0 has the teacher records
/// observed (0.2, 0.5, 0.8), boundary (0.5, 0.05, 0.6, 0.9); sequence 1 observed 0.5 everywhere.
///   text likelihood: sequence 0: 0.2 · (0.5 · 0.8) = 0.08 over 3 bytes: −log₂ 0.08 / 3 = 1.2146187 bits/byte
///                    sequence 1: 0.5 · 0.25 = 0.125 over 3 bytes: 3 / 3 = 1 bit/byte
///   confidence = Σ bytes·p(chunk) / Σ bytes:
///     sequence 0 plain: (2·0.2 + 1·0.4) / 3 = 0.2666667; debiased (p_T 0.01, 0.36): (2·0.01 + 0.36) / 3 = 0.1266667;
///     merged (one chunk, p_T 0.072): 0.072.   sequence 1 plain: (2·0.5 + 0.25) / 3 = 0.4166667
/// </summary>
[Trait("Category", TestCategory.Unit)]
public class AlmChunkScoresTests
{
    private static readonly AlmPosition[] Sequence1 = [AlmLossTests.P(0.5, 0.5), AlmLossTests.P(0.5, 0.5), AlmLossTests.P(0.5, 0.5), AlmLossTests.P(1, 0.5)];

    private static AlmChunkPlan Plan(bool debias, double gamma)
    {
        var plan = new AlmChunkPlan(new AlmSettings(1, gamma, debias));
        plan.Add(AlmLossTests.TwoChunks, [0, 1, 2, 3], AlmLossTests.TeacherRecords, rowOffset: 0);
        plan.Add(AlmLossTests.TwoChunks, [0, 1, 2, 3], Sequence1, rowOffset: 4);
        return plan;
    }

    [Theory]
    [InlineData(false, 0.0, 0.2666667)]
    [InlineData(true, 0.0, 0.1266667)]
    [InlineData(true, 0.1, 0.072)]
    public void Scores_AreBitsPerByteOfTheTextAndByteWeightedChunkProbability(bool debias, double gamma, double confidence0)
    {
        var scores = Plan(debias, gamma).Scores();
        Assert.Equal(2, scores.Length);
        Assert.All(scores, s => Assert.Equal(3, s.Bytes));
        // The boundary term and merging change the chunks the loss compares, never the text's bits per byte.
        Assert.Equal(1.2146187, scores[0].BitsPerByte, 5);
        Assert.Equal(1.0, scores[1].BitsPerByte, 5);
        Assert.Equal(confidence0, scores[0].Confidence, 5);
        if (!debias) Assert.Equal(0.4166667, scores[1].Confidence, 5);
    }

    [Fact]
    public void ASequenceWithoutScoredChunks_HasNoScore()
    {
        var plan = new AlmChunkPlan(new AlmSettings());
        plan.Add(new ChunkAlignment([new ByteChunk(0, 3, 0, 4, 0, 4, ChunkStatus.NoContext)], 3), [0, 1, 2, 3], AlmLossTests.TeacherRecords, rowOffset: 0);
        var score = Assert.Single(plan.Scores());
        Assert.False(score.Scored);
    }

    [Fact]
    public void Weighted_WeighsEachChunkByItsSequence_AndAveragesOverAllChunks()
    {
        // Plain chunk KLs: sequence 0 (p_T, p_S) = (0.2, 0.125), (0.4, 0.4): 0.0223110, 0;
        // sequence 1: (0.5, 0.125), (0.25, 0.4): 0.4133393, 0.0498568.
        // Weights 0.25, 1: (0.25·0.0223110 + 0.25·0 + 0.4133393 + 0.0498568) / 4 = 0.1171934;
        // the weights the other way round would give 0.0345275, no weights (the mean) 0.1213768.
        using var scope = NewDisposeScope();
        var plan = Plan(debias: false, gamma: 0);
        var rows = AlmLossTests.StudentProbs.SelectMany(r => r).ToArray();
        var logProbs = tensor(rows.Concat(rows).ToArray(), [8, 4], float64).log();
        var chunks = AlmLoss.PerChunk(logProbs, plan, tensor(new[] { true, false, false, true }));
        Assert.Equal([0, 0, 1, 1], plan.SequenceOfChunk);
        Assert.Equal(0.1171934, AlmLoss.Weighted(chunks, plan, [0.25, 1.0]).item<double>(), 6);
        Assert.Equal(0.1213768, AlmLoss.FromLogProbs(logProbs, plan, tensor(new[] { true, false, false, true })).item<double>(), 6);
        Assert.Equal(0.1213768 * 0.4, AlmLoss.Weighted(chunks, plan, [0.4, 0.4]).item<double>(), 6);
    }
}
