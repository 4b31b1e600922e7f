using System.Text.Json;
using MultiTeacher.Checkpoints;
using MultiTeacher.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MultiTeacher.Training;

/// <summary>
/// A resumable training state in output/checkpoints/step-NNNNNN: model weights (safetensors),
/// optimiser state, and state.json (step; written last, so a checkpoint without it is incomplete).
/// The data position and the learning rate follow from the step, so nothing else is needed.
/// </summary>
public static class TrainingCheckpoint
{
    public static string Save(string output, int step, CausalLM model, AdamW optimizer)
    {
        var dir = Path.Combine(output, "checkpoints", $"step-{step:D6}");
        Directory.CreateDirectory(dir);
        using (var scope = NewDisposeScope())
            SafetensorsWriter.Write(Path.Combine(dir, "model.safetensors"), model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach()));
        optimizer.save_state_dict(Path.Combine(dir, "optimizer.bin"));
        File.WriteAllText(Path.Combine(dir, "state.json"), JsonSerializer.Serialize(new { step }));
        return dir;
    }

    /// <summary>The newest complete checkpoint, if any.</summary>
    public static (string Directory, int Step)? Latest(string output)
    {
        var root = Path.Combine(output, "checkpoints");
        if (!Directory.Exists(root)) return null;
        return Directory.GetDirectories(root, "step-*")
            .Where(d => File.Exists(Path.Combine(d, "state.json")))
            .Select(d => (Directory: d, Step: StepOf(d)))
            .OrderByDescending(c => c.Step)
            .Cast<(string, int)?>()
            .FirstOrDefault();
    }

    /// <summary>The step a complete checkpoint directory holds.</summary>
    public static int StepOf(string directory)
    {
        var state = Path.Combine(directory, "state.json");
        if (!File.Exists(state)) throw new CheckpointException(directory, null, "not a complete checkpoint (no state.json)");
        return JsonDocument.Parse(File.ReadAllText(state)).RootElement.GetProperty("step").GetInt32();
    }

    public static void Load(string directory, CausalLM model, AdamW optimizer)
    {
        using (var checkpoint = new Checkpoint(directory)) checkpoint.LoadInto(model);
        optimizer.load_state_dict(Path.Combine(directory, "optimizer.bin"));
    }
}
