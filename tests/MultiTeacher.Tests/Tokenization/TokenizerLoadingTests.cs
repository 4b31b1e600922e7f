using MultiTeacher.Tokenization;

namespace MultiTeacher.Tests.Tokenization;

public sealed class TokenizerLoadingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mt-tok-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void MissingDirectory_IsRejected_NamingIt()
    {
        var missing = Path.Combine(_dir, "nope");
        var e = Assert.Throws<TokenizerLoadException>(() => HfTokenizer.FromDirectory(missing));
        Assert.Equal(missing, e.File);
    }

    [Fact]
    public void MissingTokenizerJson_IsRejected_NamingTheFile()
    {
        var e = Assert.Throws<TokenizerLoadException>(() => HfTokenizer.FromDirectory(_dir));
        Assert.EndsWith("tokenizer.json", e.File);
        Assert.Contains("not found", e.Problem);
    }

    [Fact]
    public void TruncatedJson_IsRejected_WithTheLine()
    {
        var good = File.ReadAllText(Path.Combine(TestAssets.TokenizerDir("mistral-7b-v0.1"), "tokenizer.json"));
        File.WriteAllText(Path.Combine(_dir, "tokenizer.json"), good[..(good.Length / 2)]);
        var e = Assert.Throws<TokenizerLoadException>(() => HfTokenizer.FromDirectory(_dir));
        Assert.Contains("not valid JSON (line", e.Problem);
    }

    [Theory]
    [InlineData("""{"model":{"type":"WordPiece","vocab":{}},"normalizer":null,"pre_tokenizer":null,"post_processor":null}""", "unsupported model type 'WordPiece'")]
    [InlineData("""{"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"normalizer":{"type":"Lowercase"},"pre_tokenizer":null,"post_processor":null}""", "unsupported normalizer 'Lowercase'")]
    [InlineData("""{"model":{"type":"BPE","vocab":{"a":0},"merges":["a b"]},"normalizer":null,"pre_tokenizer":null,"post_processor":null}""", "missing from the vocabulary")]
    [InlineData("""{"normalizer":null}""", "no 'model' section")]
    public void UnsupportedOrInconsistentDefinitions_AreRejected_WithTheReason(string json, string reason)
    {
        File.WriteAllText(Path.Combine(_dir, "tokenizer.json"), json);
        var e = Assert.Throws<TokenizerLoadException>(() => HfTokenizer.FromDirectory(_dir));
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void ContentHash_ChangesWhenTheTokenizerFileChanges()
    {
        var source = TestAssets.TokenizerDir("mistral-7b-v0.1");
        File.Copy(Path.Combine(source, "tokenizer.json"), Path.Combine(_dir, "tokenizer.json"));
        var before = HfTokenizer.FromDirectory(_dir).ContentHash;
        File.AppendAllText(Path.Combine(_dir, "tokenizer.json"), "\n");
        Assert.NotEqual(before, HfTokenizer.FromDirectory(_dir).ContentHash);
    }
}
