using System.Text.Json;
using MultiTeacher.Checkpoints;
using MultiTeacher.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace MultiTeacher.Models;

/// <summary>Hugging Face model directories in and out: config.json + safetensors (+ tokenizer files).</summary>
public static class PretrainedModel
{
    /// <summary>The files that make up a Hugging Face tokenizer, where present.</summary>
    public static readonly string[] TokenizerFiles = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"];

    /// <summary>Loads config and weights strictly, converting to <paramref name="dtype"/> on <paramref name="device"/>.</summary>
    public static CausalLM Load(string directory, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        var config = ModelConfig.FromPretrained(directory);
        using var checkpoint = new Checkpoint(directory);
        using (var meta = new CausalLM(config, new Device(DeviceType.META))) checkpoint.Verify(meta);
        // Built in the target dtype: a bf16 8B model built in float32 first would need 32 GB.
        var model = new CausalLM(config, dtype: dtype);
        try
        {
            if (device is not null) model.to(device);
            checkpoint.LoadInto(model);
            model.eval();
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Writes a complete Hugging Face directory that transformers can load: config.json,
    /// model.safetensors, generation_config.json, and the tokenizer files from <paramref name="tokenizerDirectory"/>.
    /// </summary>
    public static void Save(CausalLM model, string directory, string? tokenizerDirectory = null, ScalarType dtype = ScalarType.Float32)
    {
        Directory.CreateDirectory(directory);
        var name = dtype switch { ScalarType.BFloat16 => "bfloat16", ScalarType.Float16 => "float16", _ => "float32" };
        model.Config.TorchDtype = name;
        model.Config.Architectures ??= [ArchitectureName(model.Config.ModelType)];
        if (tokenizerDirectory is not null && File.Exists(Path.Combine(tokenizerDirectory, "tokenizer.json"))) TakeSpecialTokens(model.Config, HfTokenizer.FromDirectory(tokenizerDirectory).Roles);
        model.Config.Save(directory);
        using (var scope = NewDisposeScope())
        {
            var tensors = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().to(dtype));
            SafetensorsWriter.Write(Path.Combine(directory, "model.safetensors"), tensors, new Dictionary<string, string> { ["format"] = "pt" });
        }
        WriteGenerationConfig(model.Config, directory);
        if (tokenizerDirectory is not null) CopyTokenizerFiles(tokenizerDirectory, directory);
    }

    /// <summary>generation_config.json derived from the model config's bos and eos ids.</summary>
    public static void WriteGenerationConfig(ModelConfig config, string directory)
    {
        var generation = new Dictionary<string, object?>
        {
            ["_from_model_config"] = true,
            ["bos_token_id"] = config.BosTokenId,
            ["eos_token_id"] = config.EosTokenId,
        };
        File.WriteAllText(Path.Combine(directory, "generation_config.json"), JsonSerializer.Serialize(generation, new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>Copies the tokenizer files present in <paramref name="source"/> into <paramref name="directory"/>.</summary>
    public static void CopyTokenizerFiles(string source, string directory)
    {
        foreach (var file in TokenizerFiles)
        {
            var path = Path.Combine(source, file);
            if (File.Exists(path)) File.Copy(path, Path.Combine(directory, file), overwrite: true);
        }
    }

    /// <summary>
    /// BOS and EOS ids the config lacks are the tokenizer's: without them generation_config.json has
    /// no eos_token_id and transformers' generate() never stops.
    /// </summary>
    private static void TakeSpecialTokens(ModelConfig config, SpecialTokenRoles roles)
    {
        if (IsAbsent(config.BosTokenId) && roles.Bos >= 0) config.BosTokenId = JsonSerializer.SerializeToElement(roles.Bos);
        if (IsAbsent(config.EosTokenId) && roles.Eos >= 0) config.EosTokenId = JsonSerializer.SerializeToElement(roles.Eos);
    }

    private static bool IsAbsent(JsonElement? id) => id is null || id.Value.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined;

    public static string ArchitectureName(string modelType) => modelType switch
    {
        "llama" => "LlamaForCausalLM",
        "mistral" => "MistralForCausalLM",
        "qwen2" => "Qwen2ForCausalLM",
        "qwen3" => "Qwen3ForCausalLM",
        _ => throw new ArgumentOutOfRangeException(nameof(modelType), modelType, "unsupported model type"),
    };
}
