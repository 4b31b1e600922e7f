namespace MultiTeacher.Tokenization;

/// <summary>
/// Which tokens of a vocabulary begin at a word boundary: their first byte is whitespace (a space,
/// which the vocabulary writes as "Ġ" or "▁", a tab, a newline, a carriage return), or the token is
/// EOS. The probability a model puts on these tokens is the probability that what it has read so
/// far ends a word, which likelihood matching uses to debias chunk likelihoods.
/// </summary>
public static class BoundaryMask
{
    /// <summary>One flag per id; <paramref name="vocabulary"/> pads it to a model's (larger) output size with false.</summary>
    public static bool[] For(HfTokenizer tokenizer, int? vocabulary = null)
    {
        var size = Math.Max(vocabulary ?? tokenizer.VocabSize, tokenizer.VocabSize);
        var mask = new bool[size];
        for (var id = 0; id < tokenizer.VocabSize; id++)
        {
            var bytes = tokenizer.TokenBytes(id);
            mask[id] = id == tokenizer.Roles.Eos || !tokenizer.IsSpecial(id) && bytes.Length > 0 && IsWhitespace(bytes[0]);
        }
        return mask;
    }

    private static bool IsWhitespace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or 0x0B or 0x0C;
}
