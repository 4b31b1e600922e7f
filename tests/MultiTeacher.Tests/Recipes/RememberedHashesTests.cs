using System.Security.Cryptography;
using MultiTeacher.Recipes;

namespace MultiTeacher.Tests.Recipes;

/// <summary>A worker's file hashes, remembered against length and modification time between its input checks.</summary>
[Trait("Category", TestCategory.Unit)]
public sealed class RememberedHashesTests : TempDirectoryTest
{
    private static readonly DateTime LongAgo = new(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc);

    private string Write(string name, string text, DateTime? modified = null)
    {
        var path = Path.Combine(TempDir, name);
        File.WriteAllText(path, text);
        if (modified is { } m) File.SetLastWriteTimeUtc(path, m);
        return path;
    }

    private static string Sha256(string text) => Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)));

    [Fact]
    public void AFileUntouchedSinceItWasHashed_IsNotReadAgain()
    {
        var path = Write("teacher.bin", "weights one", LongAgo);
        var hashes = new RememberedHashes();
        Assert.Equal(Sha256("weights one"), hashes.OfFile(path));
        // Same length, modification time put back: only a file that is not read again still gives the first hash.
        Write("teacher.bin", "weights two", LongAgo);
        Assert.Equal(Sha256("weights one"), hashes.OfFile(path));
        Assert.Equal(Sha256("weights two"), new RememberedHashes().OfFile(path));
    }

    [Fact]
    public void AFileWrittenSince_IsHashedAgain()
    {
        var path = Write("data.txt", "some text", LongAgo);
        var hashes = new RememberedHashes();
        Assert.Equal(Sha256("some text"), hashes.OfFile(path));
        Write("data.txt", "some text!", LongAgo);                                 // another length
        Assert.Equal(Sha256("some text!"), hashes.OfFile(path));
        Write("data.txt", "other text", LongAgo.AddSeconds(1));                  // same length, another time
        Assert.Equal(Sha256("other text"), hashes.OfFile(path));
    }

    [Fact]
    public void AFileWrittenInTheLastSeconds_IsNotRemembered()
    {
        // A coarse-timestamp filesystem could give a second write in the same second the same time.
        var path = Write("fresh.txt", "first");
        var hashes = new RememberedHashes();
        Assert.Equal(Sha256("first"), hashes.OfFile(path));
        var modified = File.GetLastWriteTimeUtc(path);
        Write("fresh.txt", "again", modified);
        Assert.Equal(Sha256("again"), hashes.OfFile(path));
    }

    [Fact]
    public void ADirectory_HashesAsContentHashDoes()
    {
        var dir = Directory.CreateDirectory(Path.Combine(TempDir, "model")).FullName;
        File.WriteAllText(Path.Combine(dir, "config.json"), "{}");
        File.WriteAllText(Path.Combine(dir, "model.safetensors"), "tensor bytes");
        foreach (var f in Directory.GetFiles(dir)) File.SetLastWriteTimeUtc(f, LongAgo);
        var hashes = new RememberedHashes();
        Assert.Equal(ContentHash.Of(dir), hashes.Of(dir));
        Assert.Equal(ContentHash.Of(dir), hashes.Of(dir));
        File.WriteAllText(Path.Combine(dir, "extra.txt"), "a new file");
        Assert.Equal(ContentHash.Of(dir), hashes.Of(dir));
    }

    [Fact]
    public void TheInputCheck_WithRememberedHashes_StillNamesAChangedInput()
    {
        File.WriteAllText(Path.Combine(TempDir, "train.txt"), "Some training text.");
        File.WriteAllText(Path.Combine(TempDir, "config.json"), "{}");
        File.SetLastWriteTimeUtc(Path.Combine(TempDir, "train.txt"), LongAgo);
        var path = Path.Combine(TempDir, "r.yaml");
        File.WriteAllText(path, $"""
            name: r
            data: {"{"} train: train.txt {"}"}
            student: {"{"} config: config.json, tokenizer: {TestAssets.TokenizerDir("mistral-7b-v0.1")} {"}"}
            """);
        var recipe = RecipeLoader.LoadResolved(ResolvedRecipe.Resolve(RecipeLoader.Load(path)).ToYaml(), out var recorded);
        var hashes = new RememberedHashes();
        InputCheck.Verify(recipe, recorded, hashes: hashes);
        File.AppendAllText(Path.Combine(TempDir, "train.txt"), " More.");
        Assert.Equal(["data.train"], Assert.Throws<InputsChangedException>(() => InputCheck.Verify(recipe, recorded, hashes: hashes)).Inputs);
    }
}
