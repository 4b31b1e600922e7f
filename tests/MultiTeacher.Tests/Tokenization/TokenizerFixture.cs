using System.Text.Json;
using System.Text.Json.Serialization;

namespace MultiTeacher.Tests.Tokenization;

/// <summary>Reference encodings made by Hugging Face's Rust tokenizers (tools/reference/make-tokenizer-fixtures.mjs).</summary>
public sealed record TokenizerFixture(
    [property: JsonPropertyName("family")] string Family,
    [property: JsonPropertyName("reference")] string Reference,
    [property: JsonPropertyName("tokenizerJsonSha256")] string TokenizerJsonSha256,
    [property: JsonPropertyName("corpusSentences")] int CorpusSentences,
    [property: JsonPropertyName("cases")] List<TokenizerFixtureCase> Cases)
{
    public static TokenizerFixture Load(string family) =>
        JsonSerializer.Deserialize<TokenizerFixture>(File.ReadAllText(TestAssets.FixturePath("tokenizers", $"{family}.json")))!;
}

public sealed record TokenizerFixtureCase(
    [property: JsonPropertyName("text")] string Text,
    [property: JsonPropertyName("ids")] int[] Ids,
    [property: JsonPropertyName("offsets")] int[][] Offsets,
    [property: JsonPropertyName("idsWithSpecial")] int[] IdsWithSpecial)
{
    /// <summary>The reference offsets count code points; convert them to UTF-16 indices.</summary>
    public (int Start, int End)[] Utf16Offsets()
    {
        var utf16 = new List<int> { 0 };
        for (var i = 0; i < Text.Length; i += char.IsSurrogatePair(Text, i) ? 2 : 1) utf16.Add(i + (char.IsSurrogatePair(Text, i) ? 2 : 1));
        return Offsets.Select(o => (utf16[o[0]], utf16[o[1]])).ToArray();
    }
}
