using System.Text;
using System.Text.Json;
using MultiTeacher.Models;

namespace MultiTeacher.Merging;

/// <summary>The non-weight files of a merged model directory: config, generation config, tokenizer, and the record of how it was made.</summary>
public static class MergeOutput
{
    /// <summary>
    /// Writes a model directory into a hidden directory beside <paramref name="output"/> and renames it
    /// into place only when <paramref name="write"/> succeeds; on failure nothing is left behind.
    /// </summary>
    public static void Publish(string output, Action<string> write)
    {
        if (Directory.Exists(output) || File.Exists(output)) throw new MergeException($"{output} already exists: remove it or choose another output directory");
        var temp = Path.Combine(Path.GetDirectoryName(output)!, $".{Path.GetFileName(output)}.partial-{Guid.NewGuid():N}");
        Directory.CreateDirectory(temp);
        try
        {
            write(temp);
            Directory.Move(temp, output);
        }
        catch
        {
            Directory.Delete(temp, recursive: true);
            throw;
        }
    }

    public static void WriteMetadata(MergeConfig config, string directory, string reference, int layers, string dtype, long seed)
    {
        var raw = MergeSources.RawConfig(reference);
        raw["num_hidden_layers"] = layers;
        raw["torch_dtype"] = dtype switch { "BF16" => "bfloat16", "F16" => "float16", _ => "float32" };
        File.WriteAllText(Path.Combine(directory, "config.json"), raw.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));

        var tokenizer = config.TokenizerSource ?? reference;
        var generation = new[] { tokenizer, reference }.Select(d => Path.Combine(d, "generation_config.json")).FirstOrDefault(File.Exists);
        if (generation is not null) File.Copy(generation, Path.Combine(directory, "generation_config.json"));
        else PretrainedModel.WriteGenerationConfig(ModelConfig.FromPretrained(directory), directory);
        PretrainedModel.CopyTokenizerFiles(tokenizer, directory);

        File.WriteAllText(Path.Combine(directory, "mergekit_config.yml"), config.Text);
        var readme = new StringBuilder()
            .AppendLine("# Merged model").AppendLine()
            .AppendLine($"Made with `mt merge` using **{config.Method.Name}**.").AppendLine()
            .AppendLine($"- base model: {config.BaseModel ?? "(none)"}")
            .AppendLine($"- models: {string.Join(", ", config.Models)}")
            .AppendLine($"- seed: {seed}")
            .AppendLine($"- tokenizer from: {tokenizer}").AppendLine()
            .AppendLine("Configuration (also in mergekit_config.yml):").AppendLine()
            .AppendLine("```yaml").AppendLine(config.Text.TrimEnd()).AppendLine("```");
        File.WriteAllText(Path.Combine(directory, "README.md"), readme.ToString());
    }
}
