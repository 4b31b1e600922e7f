using MultiTeacher.Models;
using MultiTeacher.Recipes;
using MultiTeacher.Tests.Integration;
using MultiTeacher.Tests.Models;
using MultiTeacher.Training;

namespace MultiTeacher.Tests.Training;

[Trait("Category", TestCategory.Unit)]
public sealed class LumpedTailTrainingTests : TempDirectoryTest
{
    [Fact]
    public void LumpedTail_ReachesTheLoss_WhichIsBelowTheSpreadBucketsForTheSameStudent()
    {
        var runs = new TinyRuns(TempDir);
        runs.WriteData(trainDocuments: 1, trainChars: 1500);
        var teacher = Path.Combine(TempDir, "teacher-llama");
        using (var model = TinyModels.Create(TinyModels.Config("llama", 128256), seed: 3)) PretrainedModel.Save(model, teacher, TestAssets.TokenizerDir("llama3"));
        var config = runs.WriteConfig("student", "mistral", 32000);
        string Recipe(string tail) => runs.WriteRecipe(tail, $"""
            seed: 4
            data: {"{"} train: train.txt, seq_len: 24 {"}"}
            teachers:
              - {"{"} name: llama, path: {teacher} {"}"}
            student: {"{"} config: {config}, tokenizer: {TestAssets.TokenizerDir("mistral-7b-v0.1")} {"}"}
            alignment: {"{"} method: exact, top_k: 16, tail: {tail} {"}"}
            train: {"{"} steps: 1, batch_size: 2, lr: 0.001, teachers: online {"}"}
            """);
        double FirstKd(string tail)
        {
            using var run = new DistillationRecipe(RecipeLoader.Load(Recipe(tail)), TextWriter.Null, Path.Combine(TempDir, "cache"));
            run.Setup();
            double? kd = null;
            run.Train(m => kd ??= m.Distillation);
            return kd!.Value;
        }
        // The same initial student and teacher rows: coarsening both sides can only lower the divergence
        // (data processing), so a clearly lower value shows the lump reached the loss and the bucket did not.
        var (bucket, lump) = (FirstKd("bucket"), FirstKd("lump"));
        Assert.True(lump < 0.9 * bucket, $"lump {lump} vs bucket {bucket}");
        Assert.True(lump > 0, $"lump {lump}");
    }
}
