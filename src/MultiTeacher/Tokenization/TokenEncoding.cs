namespace MultiTeacher.Tokenization;

/// <summary>
/// Ids of one encoded text with, per token, its span in the original text as UTF-16 char offsets
/// and as UTF-8 byte offsets. Tokens that hold part of a character share its char span but get
/// their exact byte span; template tokens (BOS/EOS) get an empty span.
/// </summary>
public sealed record TokenEncoding(int[] Ids, (int Start, int End)[] Offsets, (int Start, int End)[] ByteOffsets)
{
    public int Count => Ids.Length;

    /// <summary>The first <paramref name="count"/> tokens (all of them if there are fewer).</summary>
    public TokenEncoding Take(int count) =>
        Count <= count ? this : new TokenEncoding(Ids[..count], Offsets[..count], ByteOffsets[..count]);
}

/// <summary>Ids of the tokens that play the standard roles, from tokenizer_config.json; -1 when absent.</summary>
public sealed record SpecialTokenRoles(int Bos, int Eos, int Pad, int Unk);

/// <summary>The two families of BPE vocabularies in use by the supported model families.</summary>
public enum TokenizerKind
{
    /// <summary>GPT-2 byte alphabet with a regex pre-tokenizer (Llama 3, Qwen2/2.5/3).</summary>
    ByteLevelBpe,
    /// <summary>SentencePiece-converted BPE: "▁" word marker, byte fallback (Mistral, Llama 2).</summary>
    SentencePieceBpe,
}
