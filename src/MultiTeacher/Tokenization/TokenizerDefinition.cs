using System.Text;
using System.Text.Json;
using MultiTeacher.Inputs;

namespace MultiTeacher.Tokenization;

/// <summary>An added token from tokenizer.json (special or not) with its matching flags.</summary>
public sealed record AddedToken(int Id, string Content, bool Special, bool LStrip, bool RStrip, bool SingleWord);

/// <summary>One step of tokenizer.json's normalizer.</summary>
internal abstract record NormalizerStep
{
    public sealed record Unicode(NormalizationForm Form) : NormalizerStep;
    public sealed record Prepend(string Prefix) : NormalizerStep;
    public sealed record Replace(string Pattern, string Content) : NormalizerStep;
}

/// <summary>
/// The parts of a Hugging Face tokenizer directory that encoding depends on, validated: anything
/// this implementation would not reproduce exactly is rejected with the file and the reason.
/// </summary>
internal sealed class TokenizerDefinition
{
    /// <summary>Ids at or above this are refused: the largest real vocabularies have a few hundred thousand tokens, and every id gets a table row.</summary>
    public const int MaxTokenId = (1 << 24) - 1;

    public required string JsonPath { get; init; }
    public required Dictionary<string, int> Vocab { get; init; }
    public required List<(string Left, string Right)> Merges { get; init; }
    public bool ByteFallback { get; init; }
    public bool IgnoreMerges { get; init; }
    public bool FuseUnk { get; init; }
    public string? UnkToken { get; init; }
    public required List<NormalizerStep> Normalizers { get; init; }
    /// <summary>Split regex of the pre-tokenizer (Isolated behaviour), if any.</summary>
    public string? SplitPattern { get; init; }
    /// <summary>Byte-level BPE (GPT-2 alphabet) as opposed to SentencePiece-style BPE.</summary>
    public bool ByteLevel { get; init; }
    public required List<AddedToken> AddedTokens { get; init; }
    /// <summary>Post-processor template for a single sequence: null entries stand for the text.</summary>
    public required List<int[]?> Template { get; init; }
    public required Dictionary<string, string?> Roles { get; init; }

    public static TokenizerDefinition Load(string directory)
    {
        if (!Directory.Exists(directory))
            throw new TokenizerLoadException(directory, "tokenizer directory does not exist");
        var jsonPath = Path.Combine(directory, "tokenizer.json");
        var configPath = Path.Combine(directory, "tokenizer_config.json");
        using var json = ReadJson(jsonPath, required: true)!;
        using var config = ReadJson(configPath, required: false);
        try
        {
            return Parse(jsonPath, json.RootElement, config?.RootElement);
        }
        catch (Exception e) when (e is InvalidOperationException or KeyNotFoundException or FormatException)
        {
            throw new TokenizerLoadException(jsonPath, $"malformed tokenizer: {e.Message}", e);
        }
    }

    private static JsonDocument? ReadJson(string path, bool required)
    {
        if (!File.Exists(path) && new FileInfo(path).LinkTarget is null)
        {
            if (required) throw new TokenizerLoadException(path, "file not found");
            return null;
        }
        try
        {
            var limit = Path.GetFileName(path) == "tokenizer.json" ? InputLimits.TokenizerJson : InputLimits.SmallJson;
            return JsonDocument.Parse(InputFile.ReadAllBytes(path, limit), new JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (JsonException e)
        {
            throw new TokenizerLoadException(path, $"not valid JSON (line {e.LineNumber + 1}): {e.Message}", e);
        }
        catch (Exception e) when (e is InvalidDataException or FileNotFoundException)
        {
            throw new TokenizerLoadException(path, e.Message.StartsWith(path + ": ", StringComparison.Ordinal) ? e.Message[(path.Length + 2)..] : e.Message, e);
        }
        catch (IOException e)
        {
            throw new TokenizerLoadException(path, $"unreadable: {e.Message}", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new TokenizerLoadException(path, $"unreadable: {e.Message}", e);
        }
    }

    /// <summary>A token id: an integer in [0, <see cref="MaxTokenId"/>].</summary>
    private static int TokenId(string path, JsonElement value, string what)
    {
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var id) || id < 0 || id > MaxTokenId)
            throw new TokenizerLoadException(path, $"{what} has id {Shorten(value.GetRawText())}, expected an integer from 0 to {MaxTokenId}");
        return (int)id;
    }

    /// <summary>A string that must be present: null or another type is a malformed file, not a crash later.</summary>
    private static string Text(string path, JsonElement value, string what) =>
        value.ValueKind == JsonValueKind.String ? value.GetString()! : throw new TokenizerLoadException(path, $"{what} is {value.ValueKind.ToString().ToLowerInvariant()}, expected a string");

    private static string Shorten(string raw) => raw.Length <= 40 ? raw : raw[..40] + "...";

    private static TokenizerDefinition Parse(string path, JsonElement root, JsonElement? config)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("model", out var model))
            throw new TokenizerLoadException(path, "no 'model' section");
        var type = Str(model, "type");
        if (type != "BPE")
            throw new TokenizerLoadException(path, $"unsupported model type '{type ?? "(none)"}' (supported: BPE)");
        foreach (var affix in new[] { "continuing_subword_prefix", "end_of_word_suffix" })
            if (!string.IsNullOrEmpty(Str(model, affix)))
                throw new TokenizerLoadException(path, $"unsupported BPE option {affix}");
        if (model.TryGetProperty("dropout", out var dropout) && dropout.ValueKind == JsonValueKind.Number && dropout.GetDouble() > 0)
            throw new TokenizerLoadException(path, "BPE dropout is not deterministic and is not supported");

        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        if (!model.TryGetProperty("vocab", out var vocabJson) || vocabJson.ValueKind != JsonValueKind.Object)
            throw new TokenizerLoadException(path, "model.vocab is missing");
        foreach (var p in vocabJson.EnumerateObject()) vocab[p.Name] = TokenId(path, p.Value, $"vocab entry '{Shorten(p.Name)}'");

        var merges = new List<(string, string)>();
        if (model.TryGetProperty("merges", out var mergesJson))
            foreach (var m in mergesJson.EnumerateArray())
                merges.Add(ParseMerge(path, m));

        var normalizers = new List<NormalizerStep>();
        ParseNormalizer(path, root.GetProperty("normalizer"), normalizers);

        string? split = null;
        var byteLevel = false;
        ParsePreTokenizer(path, root.GetProperty("pre_tokenizer"), ref split, ref byteLevel);
        if (!byteLevel && HasType(root, "decoder", "ByteLevel")) byteLevel = true;

        var added = new List<AddedToken>();
        if (root.TryGetProperty("added_tokens", out var addedJson))
            foreach (var a in addedJson.EnumerateArray())
            {
                var content = Text(path, a.GetProperty("content"), "added_tokens content");
                if (content.Length == 0) throw new TokenizerLoadException(path, "added_tokens has an empty content");
                added.Add(new AddedToken(TokenId(path, a.GetProperty("id"), $"added token '{Shorten(content)}'"), content,
                    Bool(a, "special"), Bool(a, "lstrip"), Bool(a, "rstrip"), Bool(a, "single_word")));
            }

        return new TokenizerDefinition
        {
            JsonPath = path,
            Vocab = vocab,
            Merges = merges,
            ByteFallback = Bool(model, "byte_fallback"),
            IgnoreMerges = Bool(model, "ignore_merges"),
            FuseUnk = Bool(model, "fuse_unk"),
            UnkToken = Str(model, "unk_token"),
            Normalizers = normalizers,
            SplitPattern = split,
            ByteLevel = byteLevel,
            AddedTokens = added,
            Template = ParseTemplate(path, root.GetProperty("post_processor")),
            Roles = ParseRoles(config),
        };
    }

    private static (string, string) ParseMerge(string path, JsonElement m)
    {
        if (m.ValueKind == JsonValueKind.String)
        {
            var s = m.GetString()!;
            var space = s.IndexOf(' ', 1);
            if (space < 0) throw new TokenizerLoadException(path, $"merge '{s}' has no separator");
            return (s[..space], s[(space + 1)..]);
        }
        if (m.ValueKind == JsonValueKind.Array && m.GetArrayLength() == 2)
            return (Text(path, m[0], "merge entry"), Text(path, m[1], "merge entry"));
        throw new TokenizerLoadException(path, $"merge entry {m.GetRawText()} is neither \"a b\" nor [a, b]");
    }

    private static void ParseNormalizer(string path, JsonElement n, List<NormalizerStep> steps)
    {
        if (n.ValueKind == JsonValueKind.Null) return;
        var type = Str(n, "type");
        switch (type)
        {
            case "Sequence":
                foreach (var inner in n.GetProperty("normalizers").EnumerateArray()) ParseNormalizer(path, inner, steps);
                break;
            case "NFC": steps.Add(new NormalizerStep.Unicode(NormalizationForm.FormC)); break;
            case "NFD": steps.Add(new NormalizerStep.Unicode(NormalizationForm.FormD)); break;
            case "NFKC": steps.Add(new NormalizerStep.Unicode(NormalizationForm.FormKC)); break;
            case "NFKD": steps.Add(new NormalizerStep.Unicode(NormalizationForm.FormKD)); break;
            case "Prepend": steps.Add(new NormalizerStep.Prepend(Text(path, n.GetProperty("prepend"), "Prepend normalizer's prepend"))); break;
            case "Replace":
                if (!n.GetProperty("pattern").TryGetProperty("String", out var pattern))
                    throw new TokenizerLoadException(path, "Replace normalizer with a regex pattern is not supported");
                steps.Add(new NormalizerStep.Replace(Text(path, pattern, "Replace normalizer's pattern"), Text(path, n.GetProperty("content"), "Replace normalizer's content")));
                break;
            default:
                throw new TokenizerLoadException(path, $"unsupported normalizer '{type}'");
        }
    }

    private static void ParsePreTokenizer(string path, JsonElement p, ref string? split, ref bool byteLevel)
    {
        if (p.ValueKind == JsonValueKind.Null) return;
        var type = Str(p, "type");
        switch (type)
        {
            case "Sequence":
                foreach (var inner in p.GetProperty("pretokenizers").EnumerateArray())
                    ParsePreTokenizer(path, inner, ref split, ref byteLevel);
                break;
            case "Split":
                if (split is not null) throw new TokenizerLoadException(path, "more than one Split pre-tokenizer");
                if (Str(p, "behavior") != "Isolated" || Bool(p, "invert"))
                    throw new TokenizerLoadException(path, "only Split with behavior Isolated and invert false is supported");
                if (!p.GetProperty("pattern").TryGetProperty("Regex", out var regex))
                    throw new TokenizerLoadException(path, "Split pre-tokenizer without a Regex pattern");
                split = Text(path, regex, "Split pre-tokenizer's Regex");
                break;
            case "ByteLevel":
                byteLevel = true;
                if (Bool(p, "add_prefix_space"))
                    throw new TokenizerLoadException(path, "ByteLevel add_prefix_space is not supported");
                if (Bool(p, "use_regex", defaultValue: true))
                {
                    if (split is not null) throw new TokenizerLoadException(path, "ByteLevel use_regex after a Split");
                    split = GptPatterns.Gpt2;
                }
                break;
            default:
                throw new TokenizerLoadException(path, $"unsupported pre_tokenizer '{type}'");
        }
    }

    private static List<int[]?> ParseTemplate(string path, JsonElement p)
    {
        var items = new List<int[]?> { null };
        if (p.ValueKind == JsonValueKind.Null) return items;
        switch (Str(p, "type"))
        {
            case "ByteLevel": return items;   // affects offsets trimming only; ids unchanged
            case "Sequence":
                List<int[]?>? found = null;
                foreach (var inner in p.GetProperty("processors").EnumerateArray())
                {
                    var t = ParseTemplate(path, inner);
                    if (t.Count > 1) found = found is null ? t : throw new TokenizerLoadException(path, "two templates in one post_processor");
                }
                return found ?? items;
            case "TemplateProcessing":
                var specials = p.GetProperty("special_tokens");
                items.Clear();
                foreach (var piece in p.GetProperty("single").EnumerateArray())
                {
                    if (piece.TryGetProperty("Sequence", out _)) { items.Add(null); continue; }
                    var id = Text(path, piece.GetProperty("SpecialToken").GetProperty("id"), "template SpecialToken id");
                    items.Add(specials.GetProperty(id).GetProperty("ids").EnumerateArray().Select(x => TokenId(path, x, $"template special token '{Shorten(id)}'")).ToArray());
                }
                return items;
            default:
                throw new TokenizerLoadException(path, $"unsupported post_processor '{Str(p, "type")}'");
        }
    }

    private static Dictionary<string, string?> ParseRoles(JsonElement? config)
    {
        var roles = new Dictionary<string, string?>();
        foreach (var role in new[] { "bos_token", "eos_token", "pad_token", "unk_token" })
        {
            string? value = null;
            if (config is { } c && c.TryGetProperty(role, out var v))
                value = v.ValueKind switch
                {
                    JsonValueKind.String => v.GetString(),
                    JsonValueKind.Object when v.TryGetProperty("content", out var content) => content.GetString(),
                    _ => null,
                };
            roles[role] = value;
        }
        if (config is { } cfg && cfg.TryGetProperty("add_bos_token", out var addBos) && addBos.ValueKind is JsonValueKind.True or JsonValueKind.False)
            roles["add_bos_token"] = addBos.GetBoolean() ? "true" : "false";
        return roles;
    }

    private static bool HasType(JsonElement root, string section, string type) =>
        root.TryGetProperty(section, out var s) && s.ValueKind == JsonValueKind.Object &&
        (Str(s, "type") == type || (s.TryGetProperty("decoders", out var inner) && inner.EnumerateArray().Any(d => Str(d, "type") == type)));

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static bool Bool(JsonElement e, string name, bool defaultValue = false) =>
        e.TryGetProperty(name, out var v) ? v.ValueKind == JsonValueKind.True : defaultValue;
}
