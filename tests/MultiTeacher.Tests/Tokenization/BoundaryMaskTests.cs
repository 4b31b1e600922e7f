using MultiTeacher.Tokenization;

namespace MultiTeacher.Tests.Tokenization;

[Trait("Category", TestCategory.Unit)]
public class BoundaryMaskTests
{
    [Theory, MemberData(nameof(TestAssets.FamilyData), MemberType = typeof(TestAssets))]
    public void Mask_MatchesTheVocabularyStrings(string family)
    {
        var tok = TestAssets.Tokenizer(family);
        var mask = BoundaryMask.For(tok);
        var expected = Enumerable.Range(0, tok.VocabSize).Select(id => NaiveBoundary(tok, id)).ToArray();
        Assert.Equal(expected, mask);
        var share = mask.Count(m => m) / (double)mask.Length;
        Assert.InRange(share, 0.2, 0.8);   // word-initial pieces are a large part of every BPE vocabulary
    }

    // From the token strings as the vocabulary writes them, not from their bytes: byte-level BPE writes
    // space, tab, newline, VT, FF, CR as Ġ ĉ Ċ ċ Č č; SentencePiece writes ▁ or a <0xNN> byte token.
    private static bool NaiveBoundary(HfTokenizer tok, int id)
    {
        if (id == tok.Roles.Eos) return true;
        if (tok.IsSpecial(id) || tok.TokenText(id) is not { Length: > 0 } text) return false;
        if (tok.AddedTokens.Any(a => a.Id == id)) return text[0] is ' ' or '\t' or '\n' or '\r' or '\v' or '\f';
        if (tok.Kind == TokenizerKind.ByteLevelBpe) return text[0] is 'Ġ' or 'ĉ' or 'Ċ' or 'ċ' or 'Č' or 'č';
        return text[0] is '▁' or ' ' or '\t' or '\n' or '\r' or '\v' or '\f' || text is "<0x20>" or "<0x09>" or "<0x0A>" or "<0x0B>" or "<0x0C>" or "<0x0D>";
    }

    [Theory, MemberData(nameof(TestAssets.FamilyData), MemberType = typeof(TestAssets))]
    public void WordStarts_AreBoundaries_WordContinuations_AreNot(string family)
    {
        var tok = TestAssets.Tokenizer(family);
        var mask = BoundaryMask.For(tok, tok.VocabSize + 64);
        Assert.Equal(tok.VocabSize + 64, mask.Length);
        Assert.All(mask[tok.VocabSize..], Assert.False);
        Assert.True(mask[Single(tok, " the")]);
        Assert.True(mask[Single(tok, "\n")]);
        Assert.False(mask[Single(tok, "the")]);
        Assert.False(mask[Single(tok, ".")]);
        Assert.True(mask[tok.Roles.Eos]);
    }

    private static int Single(HfTokenizer tok, string text) => Assert.Single(tok.EncodeBytesMidText(System.Text.Encoding.UTF8.GetBytes(text)));
}
