using MultiTeacher.Assets;

namespace MultiTeacher.Tests.Assets;

[Trait("Category", TestCategory.Unit)]
public class AssetStoreTests
{
    [Fact]
    public void Manifest_PinsEveryPackageVersionAndSha256()
    {
        var manifest = AssetManifest.Load();
        Assert.Contains(manifest.Assets, a => a.Name == "tokenizers/llama3");
        Assert.Contains(manifest.Assets, a => a.Name == "tokenizers/qwen3");
        Assert.Contains(manifest.Assets, a => a.Name == "tokenizers/mistral-7b-v0.1");
        Assert.All(manifest.Assets, a =>
        {
            Assert.Matches("^[0-9]+\\.[0-9]+\\.[0-9]+$", a.Version);
            Assert.Matches("^[0-9a-f]{64}$", a.Sha256);
        });
    }

    [Fact]
    public void DefaultStore_IsComplete_AfterBootstrap()
    {
        Assert.True(TestAssets.Store.IsComplete(), $"asset store {TestAssets.Store.Root} does not match the manifest");
    }

    [Fact]
    public void Require_OnAnEmptyStore_SaysHowToFetch()
    {
        var store = new AssetStore(Path.Combine(Path.GetTempPath(), "mt-empty-" + Guid.NewGuid().ToString("N")));
        var e = Assert.Throws<FileNotFoundException>(() => store.Require("tokenizers/llama3"));
        Assert.Contains("mt assets fetch", e.Message);
    }
}
