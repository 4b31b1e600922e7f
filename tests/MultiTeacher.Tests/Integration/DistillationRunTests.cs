using System.Text.Json;
using MultiTeacher.Models;
using MultiTeacher.Tests.Cli;

namespace MultiTeacher.Tests.Integration;

/// <summary>
/// The product's main job through the real CLI: three tiny teachers with the real Llama 3,
/// Mistral and Qwen3 tokenizers are trained, then distilled into a student of a fourth setup.
/// </summary>
[Trait("Category", TestCategory.Database)]
public sealed class DistillationRunTests : TempDirectoryTest
{
    [Fact]
    public void ThreeTeachersOfThreeVocabularies_DistilIntoAStudentThatBeatsItsInitialisation()
    {
        var runs = new TinyRuns(TempDir);
        runs.WriteData();
        foreach (var (name, type, tokenizer, vocab) in TinyRuns.Teachers)
        {
            var config = runs.WriteConfig(name, type, vocab);
            var recipe = runs.WriteRecipe($"teacher-{name}", $"""
                seed: 1
                data: {"{"} train: train.txt, eval: eval.txt, seq_len: 32 {"}"}
                student: {"{"} config: {config}, tokenizer: {TestAssets.TokenizerDir(tokenizer)} {"}"}
                train: {"{"} steps: 12, batch_size: 4, lr: 0.005, warmup_steps: 2 {"}"}
                eval: {"{"} max_bytes: 3000 {"}"}
                """);
            var (code, _, error) = CliRunner.Run("", "run", recipe);
            Assert.True(code == 0, error);
        }

        var studentConfig = runs.WriteConfig("student", "mistral", 32000);
        var distill = runs.WriteRecipe("distill", $"""
            seed: 2
            data: {"{"} train: train.txt, eval: eval.txt, seq_len: 32 {"}"}
            teachers:
              - {"{"} name: llama, path: out/teacher-llama/student {"}"}
              - {"{"} name: mistral, path: out/teacher-mistral/student {"}"}
              - {"{"} name: qwen, path: out/teacher-qwen/student {"}"}
            student: {"{"} config: {studentConfig}, tokenizer: {TestAssets.TokenizerDir("mistral-7b-v0.1")} {"}"}
            alignment: {"{"} top_k: 16 {"}"}
            mixing: {"{"} policy: confidence {"}"}
            train: {"{"} steps: 10, batch_size: 4, lr: 0.005, warmup_steps: 1, log_every: 5 {"}"}
            eval: {"{"} max_bytes: 3000 {"}"}
            """);
        Assert.Equal(0, CliRunner.Run("", "recipe", "check", distill).ExitCode);
        var (exit, output, err) = CliRunner.Run("", "run", distill);
        Assert.True(exit == 0, err);
        Assert.Contains("teacher llama", output);

        var metrics = runs.Metrics("distill");
        Assert.Equal(10, metrics.Count);
        Assert.True(metrics[^1].GetProperty("loss").GetDouble() < metrics[0].GetProperty("loss").GetDouble(), "loss did not go down");
        foreach (var teacher in new[] { "llama", "mistral", "qwen" })
        {
            Assert.InRange(metrics[^1].GetProperty($"coverage/{teacher}").GetDouble(), 0.5, 1.0);
            Assert.InRange(metrics[^1].GetProperty($"weight/{teacher}").GetDouble(), 0.01, 1.0);
        }
        Assert.True(metrics[^1].GetProperty("kd").GetDouble() >= 0);

        using var eval = JsonDocument.Parse(File.ReadAllText(Path.Combine(runs.Output("distill"), "eval.json")));
        var initial = eval.RootElement.GetProperty("bpb/student_initial").GetProperty("BitsPerByte").GetDouble();
        var final = eval.RootElement.GetProperty("bpb/student").GetProperty("BitsPerByte").GetDouble();
        Assert.True(final < initial, $"student {final:F4} bits/byte did not beat its initialisation {initial:F4}");
        Assert.True(eval.RootElement.TryGetProperty("bpb/teacher/qwen", out _));
        using var agreement = JsonDocument.Parse(File.ReadAllText(Path.Combine(runs.Output("distill"), "agreement.json")));
        Assert.InRange(agreement.RootElement.GetProperty("Top1").GetDouble(), 0.0, 1.0);
        Assert.True(agreement.RootElement.GetProperty("Kl").GetDouble() >= 0);
        Assert.True(agreement.RootElement.GetProperty("Positions").GetInt64() > 100);

        var studentDir = Path.Combine(runs.Output("distill"), "student");
        using (var student = PretrainedModel.Load(studentDir)) Assert.Equal("mistral", student.Config.ModelType);
        Assert.True(File.Exists(Path.Combine(studentDir, "tokenizer.json")));
        Assert.Equal(0, CliRunner.Run("", "eval", "--model", studentDir, "--data", Path.Combine(TempDir, "eval.txt"), "--max-bytes", "2000").ExitCode);
    }
}
