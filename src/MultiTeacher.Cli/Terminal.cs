using System.Text;

namespace MultiTeacher.Cli;

/// <summary>
/// Text from recipes, databases and files on its way to a terminal: control characters (C0, DEL,
/// C1, which carry ESC and OSC sequences that retitle windows, move the cursor or hide text) are
/// shown as \xNN or \uNNNN escapes instead of being obeyed.
/// </summary>
public static class Terminal
{
    public static string Safe(string? text)
    {
        if (string.IsNullOrEmpty(text) || !text.Any(IsControl)) return text ?? "";
        var sb = new StringBuilder(text.Length + 16);
        foreach (var c in text)
            sb.Append(!IsControl(c) ? c.ToString() : c <= 0xFF ? $"\\x{(int)c:X2}" : $"\\u{(int)c:X4}");
        return sb.ToString();
    }

    /// <summary>A message of one or more lines: each line made safe, the line breaks kept.</summary>
    public static string Lines(string? text) => string.Join('\n', (text ?? "").Split('\n').Select(l => Safe(l.TrimEnd('\r'))));

    /// <summary>A Spectre table cell: escaped for the terminal, then for Spectre markup.</summary>
    public static string Cell(string? text) => Spectre.Console.Markup.Escape(Safe(text));

    /// <summary>Control characters, and the bidirectional overrides that make text display in another order than it reads.</summary>
    private static bool IsControl(char c) => char.IsControl(c) || c is >= '\u202A' and <= '\u202E' or >= '\u2066' and <= '\u2069';
}
