using System.Text;
using MultiTeacher.Merging;
using MultiTeacher.Recipes;
using MultiTeacher.Settings;

namespace MultiTeacher.Pipelines;

/// <summary>A merge stage as mergekit configuration, so the stage merges exactly as `mt merge` does with that file.</summary>
public static class MergeStage
{
    /// <summary>mergekit YAML for the stage: each model with the per-model parameters its method reads, slerp's t, the dtype.</summary>
    public static string Config(MergeStageSettings merge)
    {
        var spec = MergeMethodSpec.Of(merge.Method);
        var yaml = new StringBuilder($"merge_method: {spec.Name}\n");
        if (merge.BaseModel is { } b) yaml.Append($"base_model: {RecipeYaml.Scalar(b)}\n");
        yaml.Append($"dtype: {merge.DType}\n");
        if (spec.GlobalParameters.ContainsKey("t")) yaml.Append($"parameters:\n  t: {RecipeYaml.Scalar(merge.T)}\n");
        yaml.Append("models:\n");
        foreach (var m in merge.Models)
        {
            yaml.Append($"  - model: {RecipeYaml.Scalar(m.Model)}\n");
            var parameters = new List<string>();
            if (spec.ModelParameters.ContainsKey("weight")) parameters.Add($"      weight: {RecipeYaml.Scalar(m.Weight)}");
            if (spec.ModelParameters.ContainsKey("density")) parameters.Add($"      density: {RecipeYaml.Scalar(m.Density)}");
            if (parameters.Count > 0) yaml.Append("    parameters:\n").AppendJoin('\n', parameters).Append('\n');
        }
        return yaml.ToString();
    }

    /// <summary>Writes the configuration beside the output as merge.yaml and merges into <paramref name="output"/>.</summary>
    public static MergeResult Run(MergeStageSettings merge, string output, long seed, TextWriter log)
    {
        var file = Path.Combine(Path.GetDirectoryName(output)!, "merge.yaml");
        File.WriteAllText(file, Config(merge));
        var result = ModelMerger.Run(MergeConfigLoader.Load(file), output, new MergeOptions(seed));
        log.WriteLine($"merged {result.Tensors} tensors with {SettingNames.Of(merge.Method)} into {result.Directory}");
        return result;
    }
}
