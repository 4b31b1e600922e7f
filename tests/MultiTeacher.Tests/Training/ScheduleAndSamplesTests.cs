using MultiTeacher.Data;
using MultiTeacher.Recipes;
using MultiTeacher.Training;

namespace MultiTeacher.Tests.Training;

[Trait("Category", TestCategory.Unit)]
public class ScheduleAndSamplesTests
{
    [Fact]
    public void Schedule_WarmsUpLinearly_ThenDecaysToZero()
    {
        var cosine = new LearningRateSchedule(1.0, 10, 110, ScheduleKind.Cosine);
        Assert.Equal(0.1, cosine.At(1), 9);
        Assert.Equal(1.0, cosine.At(10), 9);
        Assert.Equal(0.5, cosine.At(60), 9);
        Assert.Equal(0.0, cosine.At(110), 9);
        Assert.Equal(0.5, new LearningRateSchedule(1.0, 0, 100, ScheduleKind.Linear).At(50), 9);
        Assert.Equal(1.0, new LearningRateSchedule(1.0, 0, 100, ScheduleKind.Constant).At(99), 9);
    }

    [Fact]
    public void Samples_CutAtStudentTokenBoundaries_AndBatchesAreSeededAndRecomputable()
    {
        var tok = TestAssets.Tokenizer("mistral-7b-v0.1");
        var docs = new[] { string.Join(" ", Enumerable.Range(0, 200).Select(i => $"word{i}")), "A short document." };
        var a = new TrainingSamples(docs, tok, sequenceLength: 16);
        Assert.All(a.Samples, s => Assert.InRange(s.StudentIds.Length, 2, 17));
        Assert.All(a.Samples, s => Assert.Equal(tok.Roles.Bos, s.StudentIds[0]));
        var b = new TrainingSamples(docs, tok, sequenceLength: 16);
        Assert.Equal(a.Batch(7, 4, seed: 3), b.Batch(7, 4, seed: 3));
        Assert.NotEqual(a.Batch(0, a.Samples.Count, seed: 3), a.Batch(0, a.Samples.Count, seed: 4));
        // One epoch visits every sample once.
        Assert.Equal(Enumerable.Range(0, a.Samples.Count), a.Batch(0, a.Samples.Count, seed: 3).Order());
    }

    [Fact]
    public void Packing_FillsSamplesAcrossShortDocuments()
    {
        var tok = TestAssets.Tokenizer("mistral-7b-v0.1");
        var docs = Enumerable.Range(0, 12).Select(i => $"Short document number {i}.").ToArray();
        var unpacked = new TrainingSamples(docs, tok, sequenceLength: 32);
        var packed = new TrainingSamples(docs, tok, sequenceLength: 32, packing: true);
        Assert.Equal(12, unpacked.Samples.Count);
        Assert.True(packed.Samples.Count < 6, $"{packed.Samples.Count} packed samples");
        Assert.Contains("\n\n", packed.Samples[0].Text);
    }
}
