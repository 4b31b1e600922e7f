using System.Security.Cryptography;
using System.Text;
using MultiTeacher.Tokenization;

namespace MultiTeacher.Tests.Tokenization;

[Trait("Category", TestCategory.Unit)]
public class HfTokenizerExactnessTests
{
    [Theory, MemberData(nameof(TestAssets.FamilyData), MemberType = typeof(TestAssets))]
    public void Fixture_WasMadeFromTheSameTokenizerFile_AndCoversEnoughStrings(string family)
    {
        var fixture = TokenizerFixture.Load(family);
        var sha = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(TestAssets.TokenizerDir(family), "tokenizer.json"))));
        Assert.Equal(fixture.TokenizerJsonSha256, sha);
        Assert.True(fixture.Cases.Count >= 200, $"{fixture.Cases.Count} cases");
        Assert.True(fixture.CorpusSentences >= 150);
    }

    [Theory, MemberData(nameof(TestAssets.FamilyData), MemberType = typeof(TestAssets))]
    public void EncodeToIds_MatchesHuggingFace_ForEveryFixtureString(string family)
    {
        var tok = TestAssets.Tokenizer(family);
        var mismatches = TokenizerFixture.Load(family).Cases
            .Where(c => !tok.EncodeToIds(c.Text, addSpecialTokens: false).SequenceEqual(c.Ids))
            .Select(c => $"{Show(c.Text)}: expected [{string.Join(",", c.Ids)}] got [{string.Join(",", tok.EncodeToIds(c.Text, false))}]")
            .ToList();
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} mismatches:\n{string.Join("\n", mismatches.Take(10))}");
    }

    [Theory, MemberData(nameof(TestAssets.FamilyData), MemberType = typeof(TestAssets))]
    public void EncodeWithSpecialTokens_MatchesHuggingFacePostProcessor(string family)
    {
        var tok = TestAssets.Tokenizer(family);
        var mismatches = TokenizerFixture.Load(family).Cases
            .Where(c => !tok.Encode(c.Text, addSpecialTokens: true).Ids.SequenceEqual(c.IdsWithSpecial))
            .Select(c => Show(c.Text)).ToList();
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} mismatches: {string.Join(" | ", mismatches.Take(10))}");
    }

    [Theory, MemberData(nameof(TestAssets.FamilyData), MemberType = typeof(TestAssets))]
    public void Offsets_MatchHuggingFace_ForEveryFixtureString(string family)
    {
        var tok = TestAssets.Tokenizer(family);
        var mismatches = new List<string>();
        foreach (var c in TokenizerFixture.Load(family).Cases)
        {
            var expected = c.Utf16Offsets();
            var actual = tok.Encode(c.Text, addSpecialTokens: false).Offsets;
            if (!actual.SequenceEqual(expected))
                mismatches.Add($"{Show(c.Text)}: expected {string.Join(" ", expected)} got {string.Join(" ", actual)}");
        }
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} mismatches:\n{string.Join("\n", mismatches.Take(5))}");
    }

    [Theory, MemberData(nameof(TestAssets.FamilyData), MemberType = typeof(TestAssets))]
    public void DecodeOfEncode_GivesBackTheText_ForEveryFixtureString(string family)
    {
        var tok = TestAssets.Tokenizer(family);
        // Qwen declares NFC, so its round trip gives the NFC form, exactly as Hugging Face's does.
        var nfc = family == "qwen3";
        var failures = TokenizerFixture.Load(family).Cases
            .Where(c => !tok.AddedTokens.Any(a => c.Text.Contains(a.Content)) && !HasLiteralMarker(tok, c.Text))
            .Where(c => tok.Decode(tok.EncodeToIds(c.Text, false), skipSpecialTokens: true) != (nfc ? c.Text.Normalize(NormalizationForm.FormC) : c.Text))
            .Select(c => Show(c.Text)).ToList();
        Assert.True(failures.Count == 0, string.Join(" | ", failures.Take(10)));
    }

    [Theory, MemberData(nameof(TestAssets.FamilyData), MemberType = typeof(TestAssets))]
    public void ByteOffsets_SliceTheOriginalUtf8_IntoExactlyEachTokensBytes(string family)
    {
        var tok = TestAssets.Tokenizer(family);
        var failures = new List<string>();
        foreach (var c in TokenizerFixture.Load(family).Cases)
        {
            // Normalization (NFC) may change the bytes themselves; the comparison holds on normalized text.
            if (family == "qwen3" && !c.Text.IsNormalized(NormalizationForm.FormC)) continue;
            if (tok.AddedTokens.Any(a => c.Text.Contains(a.Content)) || HasLiteralMarker(tok, c.Text)) continue;
            var utf8 = Encoding.UTF8.GetBytes(c.Text);
            var e = tok.Encode(c.Text, addSpecialTokens: false);
            for (var i = 0; i < e.Count; i++)
            {
                var expected = tok.TokenBytes(e.Ids[i]).ToArray();
                var (start, end) = e.ByteOffsets[i];
                var slice = utf8[start..end];
                // SentencePiece's dummy prefix is a space that the text does not contain.
                if (tok.Kind == TokenizerKind.SentencePieceBpe && start == 0 && expected.Length == slice.Length + 1 && expected[0] == ' ')
                    expected = expected[1..];
                if (!slice.SequenceEqual(expected)) { failures.Add($"{Show(c.Text)} token {i}"); break; }
            }
        }
        Assert.True(failures.Count == 0, string.Join(" | ", failures.Take(10)));
    }

    // SentencePiece vocabularies write spaces as "▁", so a literal "▁" in the text comes back as a
    // space (Hugging Face decodes it the same way): such texts cannot round-trip.
    private static bool HasLiteralMarker(HfTokenizer tok, string text) =>
        tok.Kind == TokenizerKind.SentencePieceBpe && text.Contains('\u2581');

    private static string Show(string s) => s.Length > 60 ? s[..60] + "…" : s.Replace("\n", "\\n").Replace("\r", "\\r").Replace("\t", "\\t");
}
