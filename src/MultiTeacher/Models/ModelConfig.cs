using System.Text.Json;
using System.Text.Json.Serialization;
using MultiTeacher.Inputs;

namespace MultiTeacher.Models;

/// <summary>Rotary settings: config.json's rope_scaling (transformers v4) or rope_parameters (v5, which also holds rope_theta).</summary>
public sealed class RopeScaling
{
    [JsonPropertyName("rope_theta")] public double? RopeTheta { get; set; }
    [JsonPropertyName("rope_type")] public string? RopeType { get; set; }
    [JsonPropertyName("type")] public string? Type { get; set; }
    [JsonPropertyName("factor")] public double Factor { get; set; } = 1;
    [JsonPropertyName("low_freq_factor")] public double LowFreqFactor { get; set; } = 1;
    [JsonPropertyName("high_freq_factor")] public double HighFreqFactor { get; set; } = 4;
    [JsonPropertyName("original_max_position_embeddings")] public int? OriginalMaxPositionEmbeddings { get; set; }

    [JsonIgnore] public string Kind => RopeType ?? Type ?? "default";
}

/// <summary>
/// A decoder-only model's config.json (Llama 2/3/3.1, Mistral, Qwen2/2.5, Qwen3), field for field.
/// </summary>
public sealed class ModelConfig
{
    public static readonly string[] SupportedModelTypes = ["llama", "mistral", "qwen2", "qwen3"];

    [JsonPropertyName("model_type")] public string ModelType { get; set; } = "";
    [JsonPropertyName("architectures")] public List<string>? Architectures { get; set; }
    [JsonPropertyName("vocab_size")] public int VocabSize { get; set; }
    [JsonPropertyName("hidden_size")] public int HiddenSize { get; set; }
    [JsonPropertyName("intermediate_size")] public int IntermediateSize { get; set; }
    [JsonPropertyName("num_hidden_layers")] public int NumHiddenLayers { get; set; }
    [JsonPropertyName("num_attention_heads")] public int NumAttentionHeads { get; set; }
    [JsonPropertyName("num_key_value_heads")] public int? NumKeyValueHeads { get; set; }
    [JsonPropertyName("head_dim")] public int? HeadDimOverride { get; set; }
    [JsonPropertyName("rms_norm_eps")] public double RmsNormEps { get; set; } = 1e-6;
    [JsonPropertyName("rope_theta")] public double RopeTheta { get; set; } = 10000;
    [JsonPropertyName("rope_scaling")] public RopeScaling? RopeScaling { get; set; }
    [JsonPropertyName("rope_parameters")] public RopeScaling? RopeParameters { get; set; }
    [JsonPropertyName("max_position_embeddings")] public int MaxPositionEmbeddings { get; set; } = 4096;
    [JsonPropertyName("tie_word_embeddings")] public bool TieWordEmbeddings { get; set; }
    [JsonPropertyName("attention_bias")] public bool AttentionBias { get; set; }
    [JsonPropertyName("mlp_bias")] public bool MlpBias { get; set; }
    [JsonPropertyName("hidden_act")] public string HiddenAct { get; set; } = "silu";
    [JsonPropertyName("sliding_window")] public int? SlidingWindow { get; set; }
    [JsonPropertyName("use_sliding_window")] public bool? UseSlidingWindow { get; set; }
    [JsonPropertyName("max_window_layers")] public int? MaxWindowLayers { get; set; }
    [JsonPropertyName("layer_types")] public List<string>? LayerTypes { get; set; }
    [JsonPropertyName("torch_dtype")] public string? TorchDtype { get; set; }
    [JsonPropertyName("bos_token_id")] public JsonElement? BosTokenId { get; set; }
    [JsonPropertyName("eos_token_id")] public JsonElement? EosTokenId { get; set; }

    [JsonIgnore] public int KeyValueHeads => NumKeyValueHeads ?? NumAttentionHeads;
    [JsonIgnore] public int HeadDim => HeadDimOverride ?? HiddenSize / NumAttentionHeads;
    /// <summary>Qwen2/2.5 put biases on q/k/v (not on o); Llama and Mistral follow attention_bias.</summary>
    [JsonIgnore] public bool QkvBias => ModelType == "qwen2" || AttentionBias;
    [JsonIgnore] public bool OutputBias => ModelType != "qwen2" && AttentionBias;
    /// <summary>Qwen3 normalises queries and keys per head before rotary embedding.</summary>
    [JsonIgnore] public bool QkNorm => ModelType == "qwen3";

    /// <summary>
    /// The attention window of a layer, as transformers decides it: Mistral slides every layer;
    /// Qwen2/Qwen3 slide only with use_sliding_window, and then only the layers that layer_types marks
    /// "sliding_attention" (by default those from max_window_layers on); Llama never slides.
    /// </summary>
    public int? SlidingWindowOf(int layer) => ModelType switch
    {
        "mistral" => SlidingWindow,
        "qwen2" or "qwen3" when UseSlidingWindow == true && SlidingWindow is { } w =>
            (LayerTypes is { } types ? types[layer] == "sliding_attention" : layer >= (MaxWindowLayers ?? 28)) ? w : null,
        _ => null,
    };

    public static ModelConfig FromPretrained(string directory) => FromFile(Path.Combine(directory, "config.json"));

    public static ModelConfig FromFile(string path)
    {
        var text = InputFile.ReadAllText(path, InputLimits.SmallJson);
        ModelConfig? config;
        JsonElement root;
        try
        {
            root = JsonDocument.Parse(text).RootElement;
            config = JsonSerializer.Deserialize<ModelConfig>(text);
        }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not a valid config.json: {e.Message}", e); }
        if (config is null || root.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: empty config");
        TransformersDefaults.Apply(config, root, path);
        config.Validate(path);
        return config;
    }

    /// <summary>Upper bounds on sizes, far above any real model, so a typo fails here rather than in a native allocation.</summary>
    public static readonly IReadOnlyDictionary<string, long> Limits = new Dictionary<string, long>
    {
        ["vocab_size"] = 1 << 24, ["hidden_size"] = 1 << 16, ["intermediate_size"] = 1 << 20, ["num_hidden_layers"] = 1 << 10,
        ["num_attention_heads"] = 1 << 10, ["num_key_value_heads"] = 1 << 10, ["head_dim"] = 1 << 12, ["max_position_embeddings"] = 1 << 24,
    };

    public void Validate(string source)
    {
        if (!SupportedModelTypes.Contains(ModelType))
            throw new InvalidDataException($"{source}: unsupported model_type '{ModelType}' (supported: {string.Join(", ", SupportedModelTypes)})");
        if (HiddenAct != "silu") throw new InvalidDataException($"{source}: unsupported hidden_act '{HiddenAct}' (only silu)");
        if (RopeScaling is { } r && r.Kind is not ("llama3" or "default"))
            throw new InvalidDataException($"{source}: unsupported rope_scaling type '{r.Kind}' (supported: llama3)");
        if (LayerTypes is { } types)
        {
            if (types.Count != NumHiddenLayers)
                throw new InvalidDataException($"{source}: layer_types has {types.Count} entries for {NumHiddenLayers} layers");
            if (types.FirstOrDefault(t => t is not ("full_attention" or "sliding_attention")) is { } odd)
                throw new InvalidDataException($"{source}: unsupported layer type '{odd}' in layer_types (supported: full_attention, sliding_attention)");
        }
        foreach (var (name, value) in new[] { ("vocab_size", VocabSize), ("hidden_size", HiddenSize), ("intermediate_size", IntermediateSize),
                     ("num_hidden_layers", NumHiddenLayers), ("num_attention_heads", NumAttentionHeads), ("num_key_value_heads", KeyValueHeads) })
            if (value <= 0) throw new InvalidDataException($"{source}: {name} must be positive, got {value}");
        foreach (var (name, value) in new[] { ("vocab_size", VocabSize), ("hidden_size", HiddenSize), ("intermediate_size", IntermediateSize),
                     ("num_hidden_layers", NumHiddenLayers), ("num_attention_heads", NumAttentionHeads), ("num_key_value_heads", KeyValueHeads),
                     ("head_dim", HeadDimOverride ?? 1), ("max_position_embeddings", MaxPositionEmbeddings) })
            if (value <= 0 || value > Limits[name]) throw new InvalidDataException($"{source}: {name} {value} is outside [1, {Limits[name]:N0}]");
        foreach (var (name, value) in new[] { ("rms_norm_eps", RmsNormEps), ("rope_theta", RopeTheta) })
            if (!double.IsFinite(value) || value <= 0) throw new InvalidDataException($"{source}: {name} must be a positive finite number, got {value}");
        if (RopeScaling is { } scaling && (!double.IsFinite(scaling.Factor) || scaling.Factor <= 0 || scaling.HighFreqFactor <= scaling.LowFreqFactor || scaling.OriginalMaxPositionEmbeddings <= 0))
            throw new InvalidDataException($"{source}: rope_scaling needs factor > 0, high_freq_factor > low_freq_factor and original_max_position_embeddings > 0");
        if (NumAttentionHeads % KeyValueHeads != 0)
            throw new InvalidDataException($"{source}: num_attention_heads {NumAttentionHeads} is not a multiple of num_key_value_heads {KeyValueHeads}");
        if (HeadDimOverride is null && HiddenSize % NumAttentionHeads != 0)
            throw new InvalidDataException($"{source}: hidden_size {HiddenSize} is not a multiple of num_attention_heads {NumAttentionHeads}");
    }

    public void Save(string directory) =>
        File.WriteAllText(Path.Combine(directory, "config.json"), JsonSerializer.Serialize(this, new JsonSerializerOptions
        {
            WriteIndented = true,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        }));
}
