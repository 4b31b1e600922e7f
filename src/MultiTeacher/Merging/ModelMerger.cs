using System.Diagnostics;
using MultiTeacher.Checkpoints;
using MultiTeacher.Models;
using static TorchSharp.torch;

namespace MultiTeacher.Merging;

/// <summary>How a merge writes its output.</summary>
/// <param name="Seed">Seeds DARE's random drops; recorded in the output's README.md.</param>
/// <param name="MaxShardBytes">Largest safetensors shard; above it the output is sharded with an index.</param>
public sealed record MergeOptions(long Seed = 0, long MaxShardBytes = 5_000_000_000);

/// <summary>What a merge wrote.</summary>
public sealed record MergeResult(string Directory, int Tensors, long Bytes, int Shards, int Layers, TimeSpan Elapsed);

/// <summary>
/// Runs a merge tensor by tensor: each output tensor's inputs are copied out of the memory-mapped
/// checkpoints, checked finite, merged in float32 and streamed into the output shard, so memory
/// holds a few tensors, never a model. Output goes to a hidden directory beside the target, renamed
/// into place only when complete: a failed merge leaves nothing that looks like a model.
/// </summary>
public static class ModelMerger
{
    public static MergeResult Run(MergeConfig config, string outputDirectory, MergeOptions options, Action<string>? progress = null)
    {
        var clock = Stopwatch.StartNew();
        var output = Path.GetFullPath(outputDirectory);
        using var sources = new MergeSources(config.Models);
        var (plan, layers) = MergePlan.Build(config, sources);
        var reference = config.BaseModel ?? config.Slices[0].Sources[0].Model;

        MergeOutput.Publish(output, temp =>
        {
            using (var writer = new CheckpointWriter(temp, plan.Select(p => p.Slot).ToList(), options.MaxShardBytes, new Dictionary<string, string> { ["format"] = "pt" }))
            {
                for (var i = 0; i < plan.Count; i++)
                {
                    using var scope = NewDisposeScope();
                    var tensor = plan[i];
                    var inputs = tensor.Inputs.Select(x => ReadFinite(sources[x.Source.Model].Checkpoint, x.Input, x.Source.Model)).ToList();
                    var merged = TensorMerge.Apply(config, tensor, inputs, options.Seed);
                    writer.Write(tensor.Name, merged.to(SafetensorsFile.DTypes[tensor.Slot.DType].Type));
                    progress?.Invoke($"{i + 1}/{plan.Count} {tensor.Name}");
                }
                writer.Complete();
            }
            MergeOutput.WriteMetadata(config, temp, reference, layers, plan.Select(p => p.Slot.DType).First(), options.Seed);
        });
        var shards = Directory.GetFiles(output, "*.safetensors").Length;
        return new MergeResult(output, plan.Count, plan.Sum(p => p.Slot.Bytes), shards, layers, clock.Elapsed);
    }

    /// <summary>The tensor in its stored dtype (each method widens what it uses), rejected if it holds NaN or Inf.</summary>
    private static Tensor ReadFinite(Checkpoint checkpoint, string name, string model)
    {
        var t = checkpoint.Read(name);
        if (!isfinite(t).all().item<bool>()) throw new MergeException($"tensor '{name}' of '{model}' contains NaN or Inf");
        return t;
    }
}
