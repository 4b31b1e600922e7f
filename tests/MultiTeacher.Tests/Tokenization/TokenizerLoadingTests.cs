using MultiTeacher.Tokenization;

namespace MultiTeacher.Tests.Tokenization;

[Trait("Category", TestCategory.Unit)]
public sealed class TokenizerLoadingTests : TempDirectoryTest
{
    [Fact]
    public void MissingDirectory_IsRejected_NamingIt()
    {
        var missing = Path.Combine(TempDir, "nope");
        var e = Assert.Throws<TokenizerLoadException>(() => HfTokenizer.FromDirectory(missing));
        Assert.Equal(missing, e.File);
    }

    [Fact]
    public void MissingTokenizerJson_IsRejected_NamingTheFile()
    {
        var e = Assert.Throws<TokenizerLoadException>(() => HfTokenizer.FromDirectory(TempDir));
        Assert.EndsWith("tokenizer.json", e.File);
        Assert.Contains("not found", e.Problem);
    }

    [Fact]
    public void TruncatedJson_IsRejected_WithTheLine()
    {
        var good = File.ReadAllText(Path.Combine(TestAssets.TokenizerDir("mistral-7b-v0.1"), "tokenizer.json"));
        File.WriteAllText(Path.Combine(TempDir, "tokenizer.json"), good[..(good.Length / 2)]);
        var e = Assert.Throws<TokenizerLoadException>(() => HfTokenizer.FromDirectory(TempDir));
        Assert.Contains("not valid JSON (line", e.Problem);
    }

    [Theory]
    [InlineData("""{"model":{"type":"WordPiece","vocab":{}},"normalizer":null,"pre_tokenizer":null,"post_processor":null}""", "unsupported model type 'WordPiece'")]
    [InlineData("""{"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"normalizer":{"type":"Lowercase"},"pre_tokenizer":null,"post_processor":null}""", "unsupported normalizer 'Lowercase'")]
    [InlineData("""{"model":{"type":"BPE","vocab":{"a":0},"merges":["a b"]},"normalizer":null,"pre_tokenizer":null,"post_processor":null}""", "missing from the vocabulary")]
    [InlineData("""{"normalizer":null}""", "no 'model' section")]
    public void UnsupportedOrInconsistentDefinitions_AreRejected_WithTheReason(string json, string reason)
    {
        File.WriteAllText(Path.Combine(TempDir, "tokenizer.json"), json);
        var e = Assert.Throws<TokenizerLoadException>(() => HfTokenizer.FromDirectory(TempDir));
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void ContentHash_ChangesWhenTheTokenizerFileChanges()
    {
        var source = TestAssets.TokenizerDir("mistral-7b-v0.1");
        File.Copy(Path.Combine(source, "tokenizer.json"), Path.Combine(TempDir, "tokenizer.json"));
        var before = HfTokenizer.FromDirectory(TempDir).ContentHash;
        File.AppendAllText(Path.Combine(TempDir, "tokenizer.json"), "\n");
        Assert.NotEqual(before, HfTokenizer.FromDirectory(TempDir).ContentHash);
    }
}
