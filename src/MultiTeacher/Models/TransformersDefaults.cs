using System.Text.Json;

namespace MultiTeacher.Models;

/// <summary>
/// Fills what a config.json leaves out the way transformers' config classes do, reads the v5 layout
/// (rope_parameters), and refuses keys that would change the computation in ways not implemented.
/// </summary>
internal static class TransformersDefaults
{
    // Keys whose non-default value changes the forward pass and that the models here do not implement.
    private static readonly (string Key, Func<JsonElement, bool> IsDefault)[] Unsupported =
    [
        ("partial_rotary_factor", v => v.ValueKind == JsonValueKind.Number && v.GetDouble() == 1.0),
        ("attn_logit_softcapping", v => v.ValueKind == JsonValueKind.Null),
        ("final_logit_softcapping", v => v.ValueKind == JsonValueKind.Null),
        ("no_rope_layers", v => v.ValueKind == JsonValueKind.Null),
        ("use_qk_norm", v => v.ValueKind is JsonValueKind.False or JsonValueKind.Null),
        ("embedding_multiplier", v => v.ValueKind == JsonValueKind.Number && v.GetDouble() == 1.0),
        ("logits_scaling", v => v.ValueKind == JsonValueKind.Number && v.GetDouble() == 1.0),
    ];

    public static void Apply(ModelConfig config, JsonElement root, string source)
    {
        bool Has(string key) => root.TryGetProperty(key, out _);
        foreach (var (key, isDefault) in Unsupported)
            if (root.TryGetProperty(key, out var value) && !isDefault(value))
                throw new InvalidDataException($"{source}: '{key}' = {value.GetRawText()} changes the computation and is not supported");

        // transformers v5 keeps rope_theta and any scaling inside rope_parameters.
        if (config.RopeParameters is { } p)
        {
            if (p.RopeTheta is { } theta) config.RopeTheta = theta;
            if (p.Kind != "default") config.RopeScaling = p;
            config.RopeParameters = null;
        }
        if (!Has("max_position_embeddings"))
            config.MaxPositionEmbeddings = config.ModelType switch { "llama" => 2048, "mistral" => 4096 * 32, _ => 32768 };
        if (config.RopeScaling is { OriginalMaxPositionEmbeddings: null } s) s.OriginalMaxPositionEmbeddings = config.MaxPositionEmbeddings;
        switch (config.ModelType)
        {
            case "qwen3" when !Has("head_dim"):
                config.HeadDimOverride = 128;
                break;
            case "mistral" when !Has("sliding_window"):
                config.SlidingWindow = 4096;
                break;
        }
        if (config.ModelType is "qwen2" or "qwen3")
        {
            if (!Has("sliding_window")) config.SlidingWindow = 4096;
            config.MaxWindowLayers ??= 28;
        }
    }
}
