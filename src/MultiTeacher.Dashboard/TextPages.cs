namespace MultiTeacher.Dashboard;

/// <summary>Cuts a text into pages of about a given length, ending each at a whitespace so no word is split.</summary>
public static class TextPages
{
    /// <summary>(start, length) of each page; one empty page for an empty text. Pages cover the text exactly, in order.</summary>
    public static IReadOnlyList<(int Start, int Length)> Split(string text, int size)
    {
        var pages = new List<(int, int)>();
        var start = 0;
        while (start < text.Length)
        {
            var end = Math.Min(text.Length, start + size);
            if (end < text.Length)
            {
                // Back up to the last whitespace in the page's second half; a page without one is cut mid-word.
                var space = text.LastIndexOfAny([' ', '\n', '\t', '\r'], end - 1, end - start - size / 2);
                if (space > start) end = space + 1;
            }
            pages.Add((start, end - start));
            start = end;
        }
        return pages.Count == 0 ? [(0, 0)] : pages;
    }
}
