using System.Collections.Concurrent;
using MultiTeacher.Assets;
using MultiTeacher.Tokenization;

namespace MultiTeacher.Tests;

/// <summary>Access to the pinned assets that scripts/bootstrap.sh fetched, shared across tests.</summary>
public static class TestAssets
{
    public static readonly string[] Families = ["llama3", "mistral-7b-v0.1", "qwen3"];

    private static readonly ConcurrentDictionary<string, HfTokenizer> Tokenizers = new();

    public static AssetStore Store { get; } = AssetStore.Default();

    public static string TokenizerDir(string family) => Store.Require($"tokenizers/{family}");

    public static HfTokenizer Tokenizer(string family) =>
        Tokenizers.GetOrAdd(family, f => HfTokenizer.FromDirectory(TokenizerDir(f)));

    public static string FixturePath(params string[] parts) =>
        Path.Combine([AppContext.BaseDirectory, "Fixtures", .. parts]);

    public static TheoryData<string> FamilyData() => [.. Families];
}
