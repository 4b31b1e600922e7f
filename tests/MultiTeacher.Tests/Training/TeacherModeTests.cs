using MultiTeacher.Models;
using MultiTeacher.Recipes;
using MultiTeacher.Tests.Cli;
using MultiTeacher.Tests.Integration;
using MultiTeacher.Tests.Models;
using MultiTeacher.Training;

namespace MultiTeacher.Tests.Training;

[Trait("Category", TestCategory.Unit)]
public sealed class TeacherModeTests : TempDirectoryTest
{
    [Fact]
    public void CachedTeachers_GiveTheOnlineLoss_AndTheCacheIsReusedByTheNextRun()
    {
        var cacheRoot = Path.Combine(TempDir, "cache");
        {
            var runs = new TinyRuns(TempDir);
            runs.WriteData(trainDocuments: 1, trainChars: 1500);
            var teachers = new List<string>();
            foreach (var (family, tokenizer, vocab) in new[] { ("llama", "llama3", 128256), ("qwen3", "qwen3", 151936) })
            {
                var dir = Path.Combine(TempDir, $"teacher-{family}");
                using (var model = TinyModels.Create(TinyModels.Config(family, vocab), seed: 3)) PretrainedModel.Save(model, dir, TestAssets.TokenizerDir(tokenizer));
                teachers.Add($"  - {{ name: {family}, path: {dir} }}");
            }
            var config = runs.WriteConfig("student", "mistral", 32000);
            string Recipe(string name, string mode) => runs.WriteRecipe(name, $"""
                seed: 4
                data: {"{"} train: train.txt, seq_len: 24 {"}"}
                teachers:
                {string.Join("\n", teachers)}
                student: {"{"} config: {config}, tokenizer: {TestAssets.TokenizerDir("mistral-7b-v0.1")} {"}"}
                alignment: {"{"} top_k: 32 {"}"}
                train: {"{"} steps: 2, batch_size: 2, lr: 0.001, teachers: {mode} {"}"}
                """);

            double FirstKd(string recipe)
            {
                using var run = new DistillationRecipe(RecipeLoader.Load(recipe), TextWriter.Null, cacheRoot);
                run.Setup();
                double? kd = null;
                run.Train(m => kd ??= m.Distillation);
                return kd!.Value;
            }
            var online = FirstKd(Recipe("online", "online"));
            var cached = FirstKd(Recipe("cached", "cached"));
            Assert.True(Math.Abs(online - cached) <= 0.02 * Math.Abs(online) + 1e-4, $"online {online} vs cached {cached}");
            Assert.Equal(2, Directory.GetFiles(Path.Combine(cacheRoot, "teachers"), "*.mtcache").Length);

            // Through the CLI with the default cache root: the first call builds, the second reuses.
            var recipe = Recipe("cli", "cached");
            Assert.Equal(0, CliRunner.Run("", "cache", recipe).ExitCode);
            var (code, output, error) = CliRunner.Run("", "cache", recipe);
            Assert.True(code == 0, error);
            Assert.Contains("cache reused", output);
        }
    }
}
