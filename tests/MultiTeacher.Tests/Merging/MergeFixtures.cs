using MultiTeacher.Checkpoints;
using MultiTeacher.Models;
using MultiTeacher.Tests.Models;
using static TorchSharp.torch;

namespace MultiTeacher.Tests.Merging;

/// <summary>Tiny saved models and configuration files for merge tests.</summary>
public static class MergeFixtures
{
    public static string SaveTiny(string root, string name, long seed, int layers = 2, int vocab = 320, int hidden = 64,
        string family = "llama", ScalarType dtype = ScalarType.Float32)
    {
        var config = TinyModels.Config(family, vocab);
        config.NumHiddenLayers = layers;
        config.HiddenSize = hidden;
        using var model = TinyModels.Create(config, seed);
        var dir = Path.Combine(root, name);
        PretrainedModel.Save(model, dir, dtype: dtype);
        return dir;
    }

    public static string WriteConfig(string root, string yaml, string name = "merge.yaml")
    {
        var path = Path.Combine(root, name);
        File.WriteAllText(path, yaml);
        return path;
    }

    /// <summary>Every tensor of a model directory, read in float32.</summary>
    public static Dictionary<string, Tensor> Weights(string dir)
    {
        using var checkpoint = new Checkpoint(dir);
        return checkpoint.Names.ToDictionary(n => n, n => checkpoint.Read(n).to(ScalarType.Float32));
    }

    /// <summary>Rewrites a model's checkpoint with one tensor changed (or removed when <paramref name="change"/> returns null).</summary>
    public static void Edit(string dir, string tensor, Func<Tensor, Tensor?> change)
    {
        var weights = Weights(dir);
        var changed = change(weights[tensor]);
        if (changed is null) weights.Remove(tensor);
        else weights[tensor] = changed;
        SafetensorsWriter.Write(Path.Combine(dir, "model.safetensors"), weights);
    }
}
