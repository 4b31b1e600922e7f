using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace MultiTeacher.Tokenization;

/// <summary>Splits normalized text into pre-tokens, reported as (start, length) char spans.</summary>
internal interface IPreTokenizer
{
    void Split(ReadOnlySpan<char> text, List<(int Start, int Length)> spans);
}

/// <summary>The regex split patterns of the byte-level families and the splitters that run them.</summary>
internal static class GptPatterns
{
    public const string Gpt2 = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    // Llama 3 (digits in runs of up to 3) and Qwen2/3 (single digits) share everything else.
    private const string Gpt4Template =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|DIGITS| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    public static IPreTokenizer For(string pattern)
    {
        if (pattern == Gpt4Template.Replace("DIGITS", @"\p{N}{1,3}")) return new Gpt4Splitter(3);
        if (pattern == Gpt4Template.Replace("DIGITS", @"\p{N}")) return new Gpt4Splitter(1);
        return new RegexSplitter(pattern);
    }
}

/// <summary>
/// A hand-written scanner equal to the GPT-4-style split regex, over Unicode code points. .NET's
/// Regex sees UTF-16 units, so letters outside the BMP (e.g. CJK Extension B) would not match \p{L}
/// there; Hugging Face's Oniguruma matches them, and so does this scanner.
/// </summary>
internal sealed class Gpt4Splitter(int maxDigits) : IPreTokenizer
{
    private enum Kind : byte { Letter, Number, Newline, Space, Other }

    public void Split(ReadOnlySpan<char> text, List<(int Start, int Length)> spans)
    {
        var i = 0;
        while (i < text.Length)
        {
            var end = Match(text, i);
            spans.Add((i, end - i));
            i = end;
        }
    }

    private int Match(ReadOnlySpan<char> s, int i)
    {
        var (k, w) = At(s, i);

        // (?i:'s|'t|'re|'ve|'m|'ll|'d)
        if (s[i] == '\'' && Contraction(s, i + 1) is var c and > 0) return i + 1 + c;

        // [^\r\n\p{L}\p{N}]?\p{L}+
        if (k == Kind.Letter) return LetterRun(s, i);
        if (k is Kind.Space or Kind.Other && i + w < s.Length && At(s, i + w).Kind == Kind.Letter)
            return LetterRun(s, i + w);

        // \p{N}{1,n}
        if (k == Kind.Number)
        {
            var j = i;
            for (var n = 0; n < maxDigits && j < s.Length && At(s, j) is var (kk, ww) && kk == Kind.Number; n++) j += ww;
            return j;
        }

        //  ?[^\s\p{L}\p{N}]+[\r\n]*
        var p = s[i] == ' ' ? i + 1 : i;
        if (p < s.Length && At(s, p).Kind == Kind.Other)
        {
            while (p < s.Length && At(s, p) is var (kk, ww) && kk == Kind.Other) p += ww;
            while (p < s.Length && s[p] is '\r' or '\n') p++;
            return p;
        }

        // Whitespace alternatives: \s*[\r\n]+ | \s+(?!\S) | \s+
        var e = i;
        var lastNewline = -1;
        while (e < s.Length && At(s, e) is var (kk, ww) && kk is Kind.Space or Kind.Newline)
        {
            if (kk == Kind.Newline) lastNewline = e;
            e += ww;
        }
        if (lastNewline >= 0) return lastNewline + 1;
        if (e == s.Length) return e;
        // Followed by non-space: give the last whitespace char back to the next token if possible.
        var back = e - (char.IsLowSurrogate(s[e - 1]) ? 2 : 1);
        return back > i ? back : e;
    }

    private static int LetterRun(ReadOnlySpan<char> s, int j)
    {
        while (j < s.Length && At(s, j) is var (k, w) && k == Kind.Letter) j += w;
        return j;
    }

    // Length of the contraction suffix after an apostrophe, case-insensitive as Oniguruma folds
    // (which maps U+017F LATIN SMALL LETTER LONG S to 's' and U+212A KELVIN SIGN to 'k').
    private static int Contraction(ReadOnlySpan<char> s, int j)
    {
        if (j >= s.Length) return 0;
        var a = Fold(s[j]);
        var b = j + 1 < s.Length ? Fold(s[j + 1]) : '\0';
        if (a is 's' or 't' or 'm' or 'd') return 1;
        if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 2;
        return 0;
    }

    private static char Fold(char c) => c switch
    {
        '\u017F' => 's',
        '\u212A' => 'k',
        >= 'A' and <= 'Z' => (char)(c | 0x20),
        _ => c,
    };

    private static (Kind Kind, int Width) At(ReadOnlySpan<char> s, int i)
    {
        var c = s[i];
        if (c < 0x80)
        {
            if (c is '\r' or '\n') return (Kind.Newline, 1);
            if (c is ' ' or '\t' or '\v' or '\f') return (Kind.Space, 1);
            if ((uint)((c | 0x20) - 'a') <= 'z' - 'a') return (Kind.Letter, 1);
            if ((uint)(c - '0') <= 9) return (Kind.Number, 1);
            return (Kind.Other, 1);
        }
        if (Rune.DecodeFromUtf16(s[i..], out var rune, out var width) != OperationStatus.Done)
            return (Kind.Other, 1);   // lone surrogate
        if (Rune.IsWhiteSpace(rune)) return (Kind.Space, width);
        var cat = Rune.GetUnicodeCategory(rune);
        return cat switch
        {
            <= UnicodeCategory.OtherLetter => (Kind.Letter, width),
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => (Kind.Number, width),
            _ => (Kind.Other, width),
        };
    }
}

/// <summary>Fallback for split patterns without a hand-written scanner: .NET Regex, Isolated behaviour.</summary>
internal sealed class RegexSplitter(string pattern) : IPreTokenizer
{
    private readonly Regex _regex = new(pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant);

    public void Split(ReadOnlySpan<char> text, List<(int Start, int Length)> spans)
    {
        var last = 0;
        foreach (var m in _regex.EnumerateMatches(text))
        {
            if (m.Length == 0) continue;
            if (m.Index > last) spans.Add((last, m.Index - last));
            spans.Add((m.Index, m.Length));
            last = m.Index + m.Length;
        }
        if (last < text.Length) spans.Add((last, text.Length - last));
    }
}

/// <summary>
/// SentencePiece-style text has no pre-tokenizer: BPE runs over the whole text. When no vocabulary
/// entry holds the word marker after another char, no merge can cross the point just before a
/// marker that follows a non-marker, so splitting there gives identical ids and makes words cacheable.
/// </summary>
internal sealed class MarkerSplitter(char marker) : IPreTokenizer
{
    public void Split(ReadOnlySpan<char> text, List<(int Start, int Length)> spans)
    {
        var start = 0;
        for (var i = 1; i < text.Length; i++)
            if (text[i] == marker && text[i - 1] != marker)
            {
                spans.Add((start, i - start));
                start = i;
            }
        if (start < text.Length) spans.Add((start, text.Length - start));
    }

    public static bool IsSafeFor(IEnumerable<string> vocabulary, char marker) =>
        vocabulary.All(token => NoMarkerAfterOther(token, marker));

    private static bool NoMarkerAfterOther(string token, char marker)
    {
        for (var i = 1; i < token.Length; i++)
            if (token[i] == marker && token[i - 1] != marker) return false;
        return true;
    }
}

/// <summary>Whole text as one pre-token.</summary>
internal sealed class WholeTextSplitter : IPreTokenizer
{
    public void Split(ReadOnlySpan<char> text, List<(int Start, int Length)> spans)
    {
        if (text.Length > 0) spans.Add((0, text.Length));
    }
}
