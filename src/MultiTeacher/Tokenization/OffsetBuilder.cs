namespace MultiTeacher.Tokenization;

/// <summary>
/// Turns token lengths (in bytes of the normalized text) into char and byte spans of the original
/// text, through the normalized text's per-char alignment.
/// </summary>
internal sealed class OffsetBuilder
{
    private readonly string _text;
    private readonly int[] _byteOf;   // UTF-8 offset of each original char index, plus the end
    private readonly List<(int, int)> _chars = [];
    private readonly List<(int, int)> _bytes = [];

    public OffsetBuilder(string text)
    {
        _text = text;
        _byteOf = new int[text.Length + 1];
        for (var i = 0; i < text.Length; i++)
            _byteOf[i + 1] = _byteOf[i] + Utf8Width(text, i);
    }

    /// <summary>UTF-8 bytes of the char at i; a surrogate pair counts 4 on its high half, 0 on its low.</summary>
    private static int Utf8Width(string s, int i)
    {
        var c = s[i];
        if (c < 0x80) return 1;
        if (c < 0x800) return 2;
        if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) return 4;
        if (char.IsLowSurrogate(c) && i > 0 && char.IsHighSurrogate(s[i - 1])) return 0;
        return 3;
    }

    public void AddWhole(int start, int end)
    {
        _chars.Add((start, end));
        _bytes.Add((_byteOf[start], _byteOf[end]));
    }

    /// <summary>Spans of ids[first..] which together cover one pre-token starting at normalized char spanStart.</summary>
    public void AddPieces(NormalizedText n, int segmentStart, int spanStart, List<int> ids, int first, int[] normalizedLength)
    {
        var text = n.Text;
        var origStart = n.OrigStart!;
        var origEnd = n.OrigEnd!;
        var c = spanStart;
        var intra = 0;
        for (var t = first; t < ids.Count; t++)
        {
            var (sc, si) = (c, intra);
            for (var remaining = normalizedLength[ids[t]]; remaining > 0;)
            {
                if (c >= text.Length)
                    throw new InvalidOperationException($"token {ids[t]} runs past the end of the normalized text");
                var width = Utf8Width(text, c);
                var take = Math.Min(remaining, width - intra);
                intra += take;
                remaining -= take;
                if (intra == width) { c += width == 4 ? 2 : 1; intra = 0; }
            }
            var last = intra > 0 ? c : c - (c >= 2 && Utf8Width(text, c - 2) == 4 ? 2 : 1);
            var lastUnit = last + (Utf8Width(text, last) == 4 ? 1 : 0);
            var byteStart = _byteOf[segmentStart + origStart[sc]] + (SameChar(n, segmentStart, sc) ? si : 0);
            var byteEnd = intra > 0 && SameChar(n, segmentStart, c)
                ? _byteOf[segmentStart + origStart[c]] + intra
                : _byteOf[segmentStart + origEnd[lastUnit]];
            _bytes.Add((byteStart, Math.Max(byteStart, byteEnd)));
            // Char spans follow Hugging Face: an inserted char (SentencePiece's dummy prefix) takes the
            // span of the char after it. Byte spans keep it empty: it stands for no byte of the text.
            var charStart = segmentStart + origStart[VisibleChar(n, sc)];
            var charEnd = segmentStart + origEnd[VisibleChar(n, lastUnit, lastUnit: true)];
            _chars.Add((charStart, Math.Max(charStart, charEnd)));
        }
    }

    private static int VisibleChar(NormalizedText n, int k, bool lastUnit = false)
    {
        var j = k;
        while (j + 1 < n.Text.Length && n.OrigStart![j] == n.OrigEnd![j]) j++;
        return lastUnit && j != k && char.IsHighSurrogate(n.Text[j]) && j + 1 < n.Text.Length ? j + 1 : j;
    }

    // A normalized char that is the very original char, so byte positions inside it carry over.
    private bool SameChar(NormalizedText n, int segmentStart, int k) =>
        n.OrigEnd![k] - n.OrigStart![k] == 1 && _text[segmentStart + n.OrigStart[k]] == n.Text[k];

    /// <summary>
    /// Reorders spans like the post-processor reorders ids. Template tokens get empty spans: at the
    /// start of the text before it (BOS), at its end after it (EOS).
    /// </summary>
    public void ApplyTemplate(List<int[]?> template)
    {
        var chars = _chars.ToArray();
        var bytes = _bytes.ToArray();
        _chars.Clear();
        _bytes.Clear();
        var (charPos, bytePos) = (0, 0);
        foreach (var item in template)
        {
            if (item is null)
            {
                _chars.AddRange(chars);
                _bytes.AddRange(bytes);
                (charPos, bytePos) = (_text.Length, _byteOf[_text.Length]);
                continue;
            }
            for (var k = 0; k < item.Length; k++) { _chars.Add((charPos, charPos)); _bytes.Add((bytePos, bytePos)); }
        }
    }

    public TokenEncoding Build(int[] ids) => new(ids, [.. _chars], [.. _bytes]);
}
