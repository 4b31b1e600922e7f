using MultiTeacher.Models;
using MultiTeacher.Recipes;
using MultiTeacher.Tests.Cli;
using MultiTeacher.Tests.Integration;

namespace MultiTeacher.Tests.Models;

/// <summary>Models named by Hugging Face id come from a cache laid out as huggingface_hub writes it, here a fake one in a temporary directory.</summary>
[Trait("Category", TestCategory.Unit)]
public sealed class HubCacheTests : TempDirectoryTest
{
    private static readonly string[] Variables = ["HF_HUB_CACHE", "HF_HOME"];

    /// <summary>Runs with the Hugging Face variables set as given, restoring them afterwards.</summary>
    private static void With(string? hubCache, string? home, Action action)
    {
        var saved = Variables.Select(Environment.GetEnvironmentVariable).ToArray();
        Environment.SetEnvironmentVariable("HF_HUB_CACHE", hubCache);
        Environment.SetEnvironmentVariable("HF_HOME", home);
        try { action(); }
        finally { for (var i = 0; i < Variables.Length; i++) Environment.SetEnvironmentVariable(Variables[i], saved[i]); }
    }

    /// <summary>models--tiny-org--tiny-llama with an old snapshot and the one refs/main names, each a saved tiny model.</summary>
    private (string Hub, string Main, string Old) FakeCache()
    {
        var hub = Path.Combine(TempDir, "hub");
        var repo = Path.Combine(hub, "models--tiny-org--tiny-llama");
        var old = Path.Combine(repo, "snapshots", "0ld0000");
        var main = Path.Combine(repo, "snapshots", "abc1234");
        foreach (var (dir, seed) in new[] { (old, 1L), (main, 2L) })
        {
            using var model = TinyModels.Create(TinyModels.Config("llama", vocab: 128256), seed);
            PretrainedModel.Save(model, dir, TestAssets.TokenizerDir("llama3"));
        }
        Directory.SetLastWriteTimeUtc(old, DateTime.UtcNow);
        Directory.SetLastWriteTimeUtc(main, DateTime.UtcNow.AddDays(-1));
        Directory.CreateDirectory(Path.Combine(repo, "refs"));
        File.WriteAllText(Path.Combine(repo, "refs", "main"), "abc1234");
        return (hub, main, old);
    }

    [Fact]
    public void Root_IsHfHubCache_ElseHfHomeHub_ElseTheUsersCache()
    {
        With("/x/hub-cache", "/y/home", () => Assert.Equal("/x/hub-cache", HubCache.Root()));
        With(null, "/y/home", () => Assert.Equal("/y/home/hub", HubCache.Root()));
        With(null, null, () => Assert.Equal(
            Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "huggingface", "hub"), HubCache.Root()));
    }

    [Theory]
    [InlineData("meta-llama/Llama-3.2-1B", true)]
    [InlineData("Qwen/Qwen3-0.6B", true)]
    [InlineData("teachers/llama", true)]
    [InlineData("./teachers/llama", false)]
    [InlineData("/abs/path", false)]
    [InlineData("a/b/c", false)]
    [InlineData("llama", false)]
    public void ModelIds_AreOrgSlashName(string text, bool isId) => Assert.Equal(isId, HubCache.IsModelId(text));

    [Fact]
    public void Find_TakesTheSnapshotRefsMainNames_ElseTheNewest()
    {
        var (hub, main, old) = FakeCache();
        With(hub, null, () =>
        {
            Assert.Equal(main, HubCache.Find("tiny-org/tiny-llama"));
            File.Delete(Path.Combine(hub, "models--tiny-org--tiny-llama", "refs", "main"));
            Assert.Equal(old, HubCache.Find("tiny-org/tiny-llama"));
            Assert.Null(HubCache.Find("tiny-org/absent"));
        });
    }

    [Fact]
    public void RecipesAndModelOptions_ResolveIdsFromTheCache_AndNameThePathLookedAtWhenAbsent()
    {
        var (hub, main, _) = FakeCache();
        var runs = new TinyRuns(TempDir);
        runs.WriteData(trainDocuments: 1, trainChars: 500);
        var student = runs.WriteConfig("student", "llama", 128256);
        string Recipe(string teacher) => runs.WriteRecipe("by-id", $"""
            data: {"{"} train: train.txt {"}"}
            teachers:
              - {"{"} name: llama, path: {teacher} {"}"}
            student: {"{"} config: {student}, tokenizer: {TestAssets.TokenizerDir("llama3")} {"}"}
            """);
        With(hub, null, () =>
        {
            Assert.Equal(main, RecipeLoader.Load(Recipe("tiny-org/tiny-llama")).Teachers.Single().Path);
            var error = Assert.Throws<RecipeException>(() => RecipeLoader.Load(Recipe("tiny-org/absent")));
            Assert.Contains(Path.Combine(hub, "models--tiny-org--absent"), error.Message);

            var (code, output, stderr) = CliRunner.Run("", "generate", "--model", "tiny-org/tiny-llama", "--prompt", "The", "--max-new-tokens", "2");
            Assert.True(code == 0, stderr);
            Assert.StartsWith("The", output);
            (code, _, stderr) = CliRunner.Run("", "generate", "--model", "tiny-org/absent", "--prompt", "The");
            Assert.Equal(2, code);
            Assert.Contains(Path.Combine(hub, "models--tiny-org--absent"), stderr);
        });
    }
}
