using System.Collections.Concurrent;
using MultiTeacher.Assets;
using MultiTeacher.Tokenization;

namespace MultiTeacher.Tests;

/// <summary>Access to the pinned assets that scripts/bootstrap.sh fetched, shared across tests.</summary>
public static class TestAssets
{
    public static readonly IReadOnlyList<string> Families = AssetManifest.TokenizerFamilies();

    private static readonly ConcurrentDictionary<string, HfTokenizer> Tokenizers = new();

    public static AssetStore Store { get; } = AssetStore.Default();

    public static string TokenizerDir(string family) => Store.Require($"tokenizers/{family}");

    public static HfTokenizer Tokenizer(string family) =>
        Tokenizers.GetOrAdd(family, f => HfTokenizer.FromDirectory(TokenizerDir(f)));

    public static string FixturePath(params string[] parts) =>
        Path.Combine([AppContext.BaseDirectory, "Fixtures", .. parts]);

    public static TheoryData<string> FamilyData() => [.. Families];
}

/// <summary>A fresh directory under /tmp, removed with everything in it when the test ends.</summary>
public abstract class TempDirectoryTest : IDisposable
{
    protected string TempDir { get; } = Directory.CreateTempSubdirectory("mt-test-").FullName;

    public void Dispose()
    {
        Directory.Delete(TempDir, recursive: true);
        GC.SuppressFinalize(this);
    }
}
