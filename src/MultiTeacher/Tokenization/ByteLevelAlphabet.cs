namespace MultiTeacher.Tokenization;

/// <summary>GPT-2's reversible byte-to-printable-character map used by byte-level BPE vocabularies.</summary>
public static class ByteLevelAlphabet
{
    /// <summary>The printable character standing for each byte (e.g. 0x20 → 'Ġ').</summary>
    public static readonly char[] ByteToChar = Build();

    private static readonly Dictionary<char, byte> CharToByteMap =
        Enumerable.Range(0, 256).ToDictionary(b => ByteToChar[b], b => (byte)b);

    public static bool TryGetByte(char c, out byte b) => CharToByteMap.TryGetValue(c, out b);

    private static char[] Build()
    {
        // Printable Latin-1 bytes stand for themselves; the rest are shifted above 0xFF in order.
        var map = new char[256];
        var next = 256;
        for (var b = 0; b < 256; b++)
        {
            var printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            map[b] = printable ? (char)b : (char)next++;
        }
        return map;
    }
}
