using System.Text.RegularExpressions;
using MultiTeacher.Tokenization;

namespace MultiTeacher.Tests.Tokenization;

[Trait("Category", TestCategory.Unit)]
public class PreTokenizerTests
{
    private const string Llama3Pattern = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    [Fact]
    public void ScannerAgreesWithTheRegex_OnBmpCorpusText()
    {
        // On text without supplementary-plane chars .NET's Regex is a faithful second implementation.
        var scanner = GptPatterns.For(Llama3Pattern);
        Assert.IsType<Gpt4Splitter>(scanner);
        var regex = new RegexSplitter(Llama3Pattern);
        var lines = System.Text.Json.JsonSerializer.Deserialize<string[]>(
                File.ReadAllText(Path.Combine(TestAssets.Store.Require("corpora/nlp-corpus"), "doc-3.json")))!.Take(3000)
            .Concat(["  a\n\n b\t\tc  ", "x'S 'LL 'Re", "1234567 ab12cd", "foo!!\n\nbar", " \u3000 ", "a\u00a0b"]);
        foreach (var line in lines)
        {
            var a = new List<(int, int)>();
            var b = new List<(int, int)>();
            scanner.Split(line, a);
            regex.Split(line, b);
            Assert.True(a.SequenceEqual(b), $"split differs on: {line}");
        }
    }

    [Fact]
    public void QwenPattern_SplitsDigitsOneByOne_Llama3InRunsOfThree()
    {
        var qwen = GptPatterns.For(Llama3Pattern.Replace(@"\p{N}{1,3}", @"\p{N}"));
        var llama = GptPatterns.For(Llama3Pattern);
        var q = new List<(int Start, int Length)>();
        var l = new List<(int Start, int Length)>();
        qwen.Split("12345", q);
        llama.Split("12345", l);
        Assert.Equal(5, q.Count);
        Assert.Equal([(0, 3), (3, 2)], l);
    }

    [Fact]
    public void MarkerSplitter_IsUsedOnlyWhenNoTokenHasAnInnerMarker()
    {
        Assert.True(MarkerSplitter.IsSafeFor(["▁the", "▁▁", "abc"], '▁'));
        Assert.False(MarkerSplitter.IsSafeFor(["▁the", "a▁b"], '▁'));
    }
}
