namespace MultiTeacher.Tokenization;

/// <summary>
/// Finds added tokens in raw text, leftmost-longest like Hugging Face's added-vocabulary split,
/// honouring lstrip/rstrip/single_word. Text between matches goes through the model.
/// </summary>
internal sealed class AddedTokenMatcher
{
    private readonly Dictionary<char, AddedToken[]> _byFirstChar;
    private readonly System.Buffers.SearchValues<char> _firstChars;

    public AddedTokenMatcher(IEnumerable<AddedToken> tokens)
    {
        _byFirstChar = tokens.Where(t => t.Content.Length > 0)
            .GroupBy(t => t.Content[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(t => t.Content.Length).ToArray());
        _firstChars = System.Buffers.SearchValues.Create([.. _byFirstChar.Keys]);
    }

    /// <summary>Segments of text: (start, end, id) with id = -1 for ordinary text.</summary>
    public void Split(string text, List<(int Start, int End, int Id)> segments)
    {
        var plainStart = 0;
        var i = 0;
        while (i < text.Length)
        {
            var hit = text.AsSpan(i).IndexOfAny(_firstChars);
            if (hit < 0) break;
            i += hit;
            if (TryMatch(text, i) is { } m)
            {
                var (start, end) = (i, i + m.Content.Length);
                if (m.LStrip) while (start > plainStart && char.IsWhiteSpace(text[start - 1])) start--;
                if (m.RStrip) while (end < text.Length && char.IsWhiteSpace(text[end])) end++;
                if (start > plainStart) segments.Add((plainStart, start, -1));
                segments.Add((start, end, m.Id));
                plainStart = i = end;
            }
            else i++;
        }
        if (plainStart < text.Length) segments.Add((plainStart, text.Length, -1));
    }

    private AddedToken? TryMatch(string text, int i)
    {
        foreach (var t in _byFirstChar[text[i]])
        {
            if (string.CompareOrdinal(text, i, t.Content, 0, t.Content.Length) != 0) continue;
            if (t.SingleWord && (IsWordChar(text, i - 1) || IsWordChar(text, i + t.Content.Length))) continue;
            return t;
        }
        return null;
    }

    private static bool IsWordChar(string text, int i) =>
        i >= 0 && i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] == '_');
}
