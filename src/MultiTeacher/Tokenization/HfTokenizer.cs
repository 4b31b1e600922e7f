using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.ML.Tokenizers;
using MultiTeacher.Inputs;

namespace MultiTeacher.Tokenization;

/// <summary>
/// A Hugging Face tokenizer directory (tokenizer.json + tokenizer_config.json) loaded with
/// identical ids to Hugging Face's Rust tokenizers, and exact bytes for every token id.
/// </summary>
public sealed class HfTokenizer : Tokenizer
{
    private const char Marker = '\u2581';

    private readonly TokenizerDefinition _def;
    private readonly BpeModel _model;
    private readonly IPreTokenizer _preTokenizer;
    private readonly AddedTokenMatcher _added;
    private readonly byte[][] _tokenBytes;
    private readonly int[] _normalizedLength;   // token length in the UTF-8 of the normalized text
    private readonly bool[] _special;
    private readonly string?[] _tokenText;
    private readonly bool _stripDecodedPrefix;

    public string DirectoryPath { get; }
    public string ContentHash { get; }
    public TokenizerKind Kind { get; }
    public int VocabSize { get; }
    public SpecialTokenRoles Roles { get; }
    public IReadOnlyList<AddedToken> AddedTokens => _def.AddedTokens;

    private HfTokenizer(string directory, TokenizerDefinition def, string contentHash)
    {
        DirectoryPath = directory;
        ContentHash = contentHash;
        _def = def;
        _model = new BpeModel(def);
        _added = new AddedTokenMatcher(def.AddedTokens);
        Kind = def.ByteLevel ? TokenizerKind.ByteLevelBpe : TokenizerKind.SentencePieceBpe;
        _preTokenizer = def.SplitPattern is { } pattern ? GptPatterns.For(pattern)
            : !def.ByteLevel && MarkerSplitter.IsSafeFor(def.Vocab.Keys, Marker) ? new MarkerSplitter(Marker)
            : new WholeTextSplitter();
        _stripDecodedPrefix = def.Normalizers.Any(n => n is NormalizerStep.Prepend { Prefix: " " or "\u2581" });

        VocabSize = Math.Max(def.Vocab.Values.DefaultIfEmpty(-1).Max(), def.AddedTokens.Select(a => a.Id).DefaultIfEmpty(-1).Max()) + 1;
        _tokenBytes = new byte[VocabSize][];
        _normalizedLength = new int[VocabSize];
        _special = new bool[VocabSize];
        _tokenText = new string?[VocabSize];
        foreach (var (text, id) in def.Vocab) SetToken(id, text, added: null);
        foreach (var a in def.AddedTokens) SetToken(a.Id, a.Content, a);
        for (var id = 0; id < VocabSize; id++) _tokenBytes[id] ??= [];

        Roles = new SpecialTokenRoles(RoleId("bos_token"), RoleId("eos_token"), RoleId("pad_token"), RoleId("unk_token"));
    }

    /// <summary>Loads a tokenizer directory; throws <see cref="TokenizerLoadException"/> naming the file.</summary>
    public static HfTokenizer FromDirectory(string directory)
    {
        var full = Path.GetFullPath(directory);
        var def = TokenizerDefinition.Load(full);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var name in new[] { "tokenizer.json", "tokenizer_config.json" })
        {
            var path = Path.Combine(full, name);
            if (File.Exists(path)) sha.AppendData(InputFile.ReadAllBytes(path, InputLimits.TokenizerJson));
        }
        return new HfTokenizer(full, def, Convert.ToHexStringLower(sha.GetHashAndReset()));
    }

    private void SetToken(int id, string text, AddedToken? added)
    {
        _tokenText[id] = text;
        if (added is not null)
        {
            _tokenBytes[id] = Encoding.UTF8.GetBytes(text);
            _normalizedLength[id] = _tokenBytes[id].Length;
            _special[id] = added.Special;
            return;
        }
        if (Kind == TokenizerKind.ByteLevelBpe)
        {
            var bytes = new byte[text.Length];
            for (var i = 0; i < text.Length; i++)
                if (!ByteLevelAlphabet.TryGetByte(text[i], out bytes[i]))
                    throw new TokenizerLoadException(_def.JsonPath, $"token {id} '{text}' has a char outside the byte-level alphabet");
            _tokenBytes[id] = bytes;
            _normalizedLength[id] = bytes.Length;
        }
        else if (_def.ByteFallback && text.Length == 6 && text.StartsWith("<0x", StringComparison.Ordinal) && text[5] == '>')
        {
            _tokenBytes[id] = [Convert.ToByte(text[3..5], 16)];
            _normalizedLength[id] = 1;
        }
        else
        {
            _tokenBytes[id] = Encoding.UTF8.GetBytes(text.Replace(Marker, ' '));
            _normalizedLength[id] = Encoding.UTF8.GetByteCount(text);
        }
    }

    private int RoleId(string role)
    {
        if (_def.Roles.GetValueOrDefault(role) is not { } content) return -1;
        var added = _def.AddedTokens.FirstOrDefault(a => a.Content == content);
        if (added is not null) return added.Id;
        return _def.Vocab.TryGetValue(content, out var id) ? id : -1;
    }

    /// <summary>The exact UTF-8 bytes token <paramref name="id"/> stands for ("▁" as a space, &lt;0xNN&gt; as its byte).</summary>
    public ReadOnlySpan<byte> TokenBytes(int id) => _tokenBytes[id];

    /// <summary>The token's string as written in the vocabulary, or null for an unused id.</summary>
    public string? TokenText(int id) => (uint)id < (uint)VocabSize ? _tokenText[id] : null;

    public bool IsSpecial(int id) => (uint)id < (uint)VocabSize && _special[id];

    /// <summary>Encodes to ids only (the fast path: no offset bookkeeping).</summary>
    public int[] EncodeToIds(string text, bool addSpecialTokens = true) => Run(text, addSpecialTokens, withOffsets: false).Ids;

    /// <summary>Encodes with char and byte offsets into <paramref name="text"/>.</summary>
    public TokenEncoding Encode(string text, bool addSpecialTokens = true) => Run(text, addSpecialTokens, withOffsets: true);

    /// <summary>
    /// Ids the tokenizer writes for these bytes in the middle of a text: no dummy prefix, no
    /// template, added tokens not matched. Bytes that are not valid UTF-8 (part of a character)
    /// go through byte-level BPE or byte fallback.
    /// </summary>
    public int[] EncodeBytesMidText(ReadOnlySpan<byte> bytes)
    {
        var ids = new List<int>();
        while (!bytes.IsEmpty)
        {
            var valid = ValidUtf8Prefix(bytes);
            if (valid > 0)
            {
                ids.AddRange(Run(Encoding.UTF8.GetString(bytes[..valid]), addSpecialTokens: false, withOffsets: false, midText: true).Ids);
                bytes = bytes[valid..];
                continue;
            }
            var invalid = 1;
            while (invalid < bytes.Length && ValidUtf8Prefix(bytes[invalid..]) == 0) invalid++;
            ids.AddRange(_model.TokenizeRawBytes(bytes[..invalid]));
            bytes = bytes[invalid..];
        }
        return [.. ids];
    }

    private static int ValidUtf8Prefix(ReadOnlySpan<byte> bytes)
    {
        var n = 0;
        while (n < bytes.Length && Rune.DecodeFromUtf8(bytes[n..], out _, out var used) == OperationStatus.Done) n += used;
        return n;
    }

    private TokenEncoding Run(string text, bool addSpecialTokens, bool withOffsets, bool midText = false)
    {
        var ids = new List<int>(text.Length / 3 + 4);
        var offsets = withOffsets ? new OffsetBuilder(text) : null;
        var segments = new List<(int Start, int End, int Id)>();
        var spans = new List<(int Start, int Length)>();
        if (midText) segments.Add((0, text.Length, -1));
        else _added.Split(text, segments);
        foreach (var (start, end, addedId) in segments)
        {
            if (addedId >= 0)
            {
                ids.Add(addedId);
                offsets?.AddWhole(start, end);
                continue;
            }
            var normalized = Normalize(text.Substring(start, end - start), withOffsets, midText);
            spans.Clear();
            _preTokenizer.Split(normalized.Text, spans);
            foreach (var (s, len) in spans)
            {
                var first = ids.Count;
                _model.Tokenize(normalized.Text.AsSpan(s, len), ids);
                offsets?.AddPieces(normalized, start, s, ids, first, _normalizedLength);
            }
        }
        if (addSpecialTokens) ApplyTemplate(ids, offsets);
        return offsets is null ? new TokenEncoding([.. ids], [], []) : offsets.Build([.. ids]);
    }

    private NormalizedText Normalize(string text, bool track, bool midText)
    {
        var n = new NormalizedText(text, track);
        foreach (var step in _def.Normalizers)
            switch (step)
            {
                case NormalizerStep.Unicode u: n.UnicodeNormalize(u.Form); break;
                case NormalizerStep.Prepend p: if (!midText) n.Prepend(p.Prefix); break;
                case NormalizerStep.Replace r: n.Replace(r.Pattern, r.Content); break;
            }
        return n;
    }

    private void ApplyTemplate(List<int> ids, OffsetBuilder? offsets)
    {
        if (_def.Template is [null]) return;
        var body = ids.ToArray();
        ids.Clear();
        foreach (var item in _def.Template) ids.AddRange(item ?? body);
        offsets?.ApplyTemplate(_def.Template);
    }

    /// <summary>Decodes ids back to text: the bytes of each token, joined, as UTF-8.</summary>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens)
    {
        var buffer = new List<byte>();
        foreach (var id in ids)
        {
            if ((uint)id >= (uint)VocabSize) throw new ArgumentOutOfRangeException(nameof(ids), $"token id {id} is outside the vocabulary (size {VocabSize})");
            if (skipSpecialTokens && _special[id]) continue;
            buffer.AddRange(_tokenBytes[id]);
        }
        var start = _stripDecodedPrefix && buffer.Count > 0 && buffer[0] == (byte)' ' ? 1 : 0;
        return Encoding.UTF8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(buffer)[start..]);
    }

    // Microsoft.ML.Tokenizers surface, so the tokenizer plugs into that API as any other.
    public override string Decode(IEnumerable<int> ids) => Decode(ids, skipSpecialTokens: true);

    public override OperationStatus Decode(IEnumerable<int> ids, Span<char> destination, out int idsConsumed, out int charsWritten)
    {
        var list = ids as IReadOnlyCollection<int> ?? ids.ToList();
        var text = Decode(list, skipSpecialTokens: true);
        if (text.Length > destination.Length) { idsConsumed = 0; charsWritten = 0; return OperationStatus.DestinationTooSmall; }
        text.AsSpan().CopyTo(destination);
        idsConsumed = list.Count;
        charsWritten = text.Length;
        return OperationStatus.Done;
    }

    protected override EncodeResults<EncodedToken> EncodeToTokens(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings)
    {
        var source = text ?? textSpan.ToString();
        var encoding = Encode(source, addSpecialTokens: false);
        var tokens = new List<EncodedToken>(encoding.Count);
        for (var i = 0; i < encoding.Count; i++)
            tokens.Add(new EncodedToken(encoding.Ids[i], _tokenText[encoding.Ids[i]] ?? "", new Range(encoding.Offsets[i].Start, encoding.Offsets[i].End)));
        return new EncodeResults<EncodedToken> { Tokens = tokens, CharsConsumed = source.Length };
    }
}
