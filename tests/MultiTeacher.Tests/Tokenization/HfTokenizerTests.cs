using System.Text;
using MultiTeacher.Tokenization;

namespace MultiTeacher.Tests.Tokenization;

[Trait("Category", TestCategory.Unit)]
public class HfTokenizerTests
{
    [Fact]
    public void Mistral_HelloIsTheKnownId_AndByteTokensStandForTheirByte()
    {
        var tok = TestAssets.Tokenizer("mistral-7b-v0.1");
        Assert.Equal([22557], tok.EncodeToIds("Hello", addSpecialTokens: false));
        Assert.Equal([1, 22557], tok.EncodeToIds("Hello", addSpecialTokens: true));
        Assert.Equal(" Hello"u8.ToArray(), tok.TokenBytes(22557).ToArray());
        Assert.Equal("\n"u8.ToArray(), tok.TokenBytes(13).ToArray());   // <0x0A>
        Assert.Equal(TokenizerKind.SentencePieceBpe, tok.Kind);
        Assert.Equal(new SpecialTokenRoles(1, 2, -1, 0), tok.Roles);
    }

    [Fact]
    public void Llama3_ByteLevelAlphabetMapsBackToRawBytes()
    {
        var tok = TestAssets.Tokenizer("llama3");
        var id = tok.EncodeToIds(" world", addSpecialTokens: false).Single();
        Assert.Equal("Ġworld", tok.TokenText(id));
        Assert.Equal(" world"u8.ToArray(), tok.TokenBytes(id).ToArray());
        Assert.Equal(128256, tok.VocabSize);
        Assert.Equal(128000, tok.Roles.Bos);
        Assert.True(tok.IsSpecial(128000));
    }

    [Theory, MemberData(nameof(TestAssets.FamilyData), MemberType = typeof(TestAssets))]
    public void EveryOrdinaryTokenHasBytes_AndByteLevelTokensAreDistinct(string family)
    {
        var tok = TestAssets.Tokenizer(family);
        var seen = new HashSet<string>();
        var duplicates = 0;
        for (var id = 0; id < tok.VocabSize; id++)
        {
            if (tok.TokenText(id) is null || tok.IsSpecial(id)) continue;
            var bytes = tok.TokenBytes(id).ToArray();
            Assert.True(bytes.Length > 0, $"token {id} has no bytes");
            if (!seen.Add(Convert.ToHexString(bytes))) duplicates++;
        }
        // Byte-level vocabularies are injective on bytes; SentencePiece ones have a few aliases
        // (a "<0xNN>" byte token and the single-char token of that same byte).
        if (tok.Kind == TokenizerKind.ByteLevelBpe) Assert.Equal(0, duplicates);
        else Assert.InRange(duplicates, 0, 256);
    }

    [Fact]
    public void SupplementaryPlaneLetters_AreLettersForThePreTokenizer()
    {
        // U+20000 is a letter (Lo); a UTF-16 regex would see two surrogates and split differently.
        var tok = TestAssets.Tokenizer("llama3");
        var ids = tok.EncodeToIds("a 𠀀b", addSpecialTokens: false);
        var text = Encoding.UTF8.GetString(ids.SelectMany(id => tok.TokenBytes(id).ToArray()).ToArray());
        Assert.Equal("a 𠀀b", text);
        Assert.Equal(Encoding.UTF8.GetByteCount(" 𠀀b"), ids.Skip(1).Sum(id => tok.TokenBytes(id).Length));
    }

    [Fact]
    public void MicrosoftMlTokenizerSurface_GivesTheSameIdsAndDecodes()
    {
        Microsoft.ML.Tokenizers.Tokenizer tok = TestAssets.Tokenizer("qwen3");
        const string text = "Distillation from several teachers.";
        var ids = tok.EncodeToIds(text);
        Assert.Equal(TestAssets.Tokenizer("qwen3").EncodeToIds(text, addSpecialTokens: false), ids);
        Assert.Equal(text, tok.Decode(ids));
    }

    [Fact]
    public void EmptyText_GivesNoTokens_ButTheTemplateStillAddsBos()
    {
        var tok = TestAssets.Tokenizer("mistral-7b-v0.1");
        Assert.Empty(tok.EncodeToIds("", addSpecialTokens: false));
        Assert.Equal([1], tok.EncodeToIds("", addSpecialTokens: true));
    }
}
