using System.Diagnostics;
using MultiTeacher.Checkpoints;
using MultiTeacher.Models;
using static TorchSharp.torch;

namespace MultiTeacher.Merging;

/// <summary>How a merge writes its output.</summary>
/// <param name="Seed">Seeds DARE's random drops; recorded in the output's README.md.</param>
/// <param name="MaxShardBytes">Largest safetensors shard; above it the output is sharded with an index.</param>
/// <param name="BlockElements">Entries per input merged at once: a larger tensor is merged in blocks of rows of about this size.</param>
public sealed record MergeOptions(long Seed = 0, long MaxShardBytes = 5_000_000_000, long BlockElements = 1 << 24);

/// <summary>What a merge wrote.</summary>
public sealed record MergeResult(string Directory, int Tensors, long Bytes, int Shards, int Layers, TimeSpan Elapsed);

/// <summary>
/// Runs a merge tensor by tensor, and a tensor larger than <see cref="MergeOptions.BlockElements"/>
/// in blocks of rows: each block's inputs are read from the memory-mapped checkpoints (in place for
/// task_arithmetic and TIES, else copied), checked finite, merged in float32 and streamed into the
/// output shard, so memory holds a few blocks, never a model nor a whole embedding. The next
/// tensors' inputs are read ahead from disk and each block is written while the next one is merged. Output goes to a hidden directory beside the target, renamed
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
                var pipeline = new MergePipeline(plan, sources);
                try
                {
                    for (var i = 0; i < plan.Count; i++)
                    {
                        var tensor = plan[i];
                        pipeline.ReadAhead(i);
                        MergeTensor(config, tensor, sources, options, block => pipeline.Write(() => writer.WriteRows(tensor.Name, block), block));
                        progress?.Invoke($"{i + 1}/{plan.Count} {tensor.Name}");
                    }
                }
                catch
                {
                    pipeline.Finish(rethrow: false);
                    throw;
                }
                pipeline.Finish(rethrow: true);
                writer.Complete();
            }
            MergeOutput.WriteMetadata(config, temp, reference, layers, plan.Select(p => p.Slot.DType).First(), options.Seed);
        });
        var shards = Directory.GetFiles(output, "*.safetensors").Length;
        return new MergeResult(output, plan.Count, plan.Sum(p => p.Slot.Bytes), shards, layers, clock.Elapsed);
    }

    /// <summary>
    /// Merges one planned tensor and hands its rows to <paramref name="write"/> in order, in the
    /// output dtype: whole when it fits in a block, else block by block after the passes that gather
    /// the method's whole-tensor statistics.
    /// </summary>
    public static void MergeTensor(MergeConfig config, PlannedTensor tensor, MergeSources sources, MergeOptions options, Action<Tensor> write)
    {
        var shape = tensor.Slot.Shape;
        var rows = shape.Length >= 2 ? shape[0] : 1;
        var blockRows = Math.Max(1, options.BlockElements / Math.Max(1, shape.Aggregate(1L, (a, b) => a * b) / Math.Max(rows, 1)));
        var dtype = SafetensorsFile.DTypes[tensor.Slot.DType].Type;
        if (MappedTaskVectorMerge.Applies(config, tensor, sources))
        {
            MappedTaskVectorMerge.Run(config, tensor, sources, options, Math.Min(rows, blockRows), write);
            return;
        }
        if (rows <= blockRows)
        {
            using var scope = NewDisposeScope();
            write(TensorMerge.Apply(config, tensor, Read(tensor, sources, 0, -1), options.Seed).to(dtype));
            return;
        }
        using var merge = new TensorMerge(config, tensor, options.Seed, blocked: true);
        // Every block is checked for NaN and Inf once, in the first pass over the tensor, before anything is written.
        for (var pass = 0; pass < merge.Passes; pass++)
        {
            for (long start = 0; start < rows; start += blockRows)
            {
                using var scope = NewDisposeScope();
                merge.Observe(Read(tensor, sources, start, Math.Min(blockRows, rows - start), check: pass == 0));
            }
            merge.EndPass();
        }
        for (long start = 0; start < rows; start += blockRows)
        {
            using var scope = NewDisposeScope();
            write(merge.Merge(Read(tensor, sources, start, Math.Min(blockRows, rows - start), check: merge.Passes == 0)).to(dtype));
        }
    }

    /// <summary>Rows [start, start + count) of every input (count −1: the whole tensor) in their stored dtype; when checked, rejected if they hold NaN or Inf.</summary>
    private static List<Tensor> Read(PlannedTensor tensor, MergeSources sources, long start, long count, bool check = true) => tensor.Inputs.Select(x =>
    {
        var checkpoint = sources[x.Source.Model].Checkpoint;
        var t = count < 0 ? checkpoint.Read(x.Input) : checkpoint.ReadRows(x.Input, start, count);
        if (check && !FloatReader.AllFinite(t)) throw new MergeException($"tensor '{x.Input}' of '{x.Source.Model}' contains NaN or Inf");
        return t;
    }).ToList();
}
