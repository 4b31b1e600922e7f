using System.Globalization;
using System.Text;

namespace MultiTeacher.Tokenization;

/// <summary>
/// Text after the tokenizer's normalizer, optionally with, for every normalized char, the range of
/// original chars it came from (as Hugging Face's NormalizedString keeps), so offsets survive NFC,
/// prepended markers and replacements.
/// </summary>
internal sealed class NormalizedText
{
    public string Text { get; private set; }
    /// <summary>Per normalized char: start/end of its source range in the original; null when not tracked.</summary>
    public int[]? OrigStart { get; private set; }
    public int[]? OrigEnd { get; private set; }

    public NormalizedText(string text, bool track)
    {
        Text = text;
        if (!track) return;
        OrigStart = new int[text.Length];
        OrigEnd = new int[text.Length];
        for (var i = 0; i < text.Length; i++) { OrigStart[i] = i; OrigEnd[i] = i + 1; }
    }

    public void UnicodeNormalize(NormalizationForm form)
    {
        if (Text.IsNormalized(form)) return;
        if (OrigStart is null) { Text = Text.Normalize(form); return; }

        // Composition never crosses a grapheme cluster, so each cluster normalises on its own. As in
        // Hugging Face's alignments, output char k of a changed cluster points at source char k
        // (a composed char at the first char it was composed from).
        var sb = new StringBuilder(Text.Length);
        var starts = new List<int>(Text.Length);
        var ends = new List<int>(Text.Length);
        var e = StringInfo.GetTextElementEnumerator(Text);
        while (e.MoveNext())
        {
            var cluster = (string)e.Current;
            var first = e.ElementIndex;
            var last = first + cluster.Length - 1;
            var normalized = cluster.Normalize(form);
            var identity = normalized == cluster;
            for (var k = 0; k < normalized.Length; k++)
            {
                sb.Append(normalized[k]);
                var source = identity ? first + k : Math.Min(first + k, last);
                starts.Add(OrigStart[source]);
                ends.Add(OrigEnd![source]);
            }
        }
        Text = sb.ToString();
        OrigStart = [.. starts];
        OrigEnd = [.. ends];
    }

    /// <summary>Inserted chars stand for no original char: an empty range at the insertion point.</summary>
    public void Prepend(string prefix)
    {
        if (Text.Length == 0) return;   // Hugging Face prepends nothing to empty text
        var anchor = OrigStart?[0] ?? 0;
        Text = prefix + Text;
        if (OrigStart is null) return;
        OrigStart = [.. Enumerable.Repeat(anchor, prefix.Length), .. OrigStart];
        OrigEnd = [.. Enumerable.Repeat(anchor, prefix.Length), .. OrigEnd!];
    }

    public void Replace(string pattern, string content)
    {
        if (pattern.Length == 0 || !Text.Contains(pattern, StringComparison.Ordinal)) return;
        if (OrigStart is null) { Text = Text.Replace(pattern, content, StringComparison.Ordinal); return; }

        var sb = new StringBuilder(Text.Length);
        var starts = new List<int>(Text.Length);
        var ends = new List<int>(Text.Length);
        var i = 0;
        while (i < Text.Length)
        {
            if (string.CompareOrdinal(Text, i, pattern, 0, pattern.Length) == 0)
            {
                var s = OrigStart[i];
                var t = OrigEnd![i + pattern.Length - 1];
                foreach (var ch in content) { sb.Append(ch); starts.Add(s); ends.Add(t); }
                i += pattern.Length;
            }
            else
            {
                sb.Append(Text[i]); starts.Add(OrigStart[i]); ends.Add(OrigEnd![i]); i++;
            }
        }
        Text = sb.ToString();
        OrigStart = [.. starts];
        OrigEnd = [.. ends];
    }
}
