using MultiTeacher.Checkpoints;
using static TorchSharp.torch;

namespace MultiTeacher.Merging;

/// <summary>
/// task_arithmetic and TIES read straight from the memory-mapped inputs: no input is copied, TIES'
/// trim thresholds of every model come from one pass over the tensor (<see cref="TrimThreshold"/>,
/// which also checks every input for NaN and Inf), and the fused kernel writes each block of rows
/// in the output dtype, ready for the writer. A block's input pages are dropped from the process
/// once read, so the resident set holds a block, not the tensor.
/// </summary>
internal static class MappedTaskVectorMerge
{
    /// <summary>Whether a tensor is merged this way: a task-vector method without random drops, inputs and output of BF16 or F32.</summary>
    public static bool Applies(MergeConfig config, PlannedTensor tensor, MergeSources sources) =>
        config.Method.Kind is MergeMethodKind.TaskArithmetic or MergeMethodKind.Ties
        && FloatReader.Readable(tensor.Slot.DType)
        && tensor.Inputs.All(x => FloatReader.Readable(sources[x.Source.Model].Checkpoint.Entry(x.Input).DType));

    public static void Run(MergeConfig config, PlannedTensor tensor, MergeSources sources, MergeOptions options, long blockRows, Action<Tensor> write)
    {
        using var merge = new TensorMerge(config, tensor, options.Seed, blocked: false);
        var p = merge.TaskVectors;
        var mapped = tensor.Inputs.Select(x => sources[x.Source.Model].Checkpoint.Map(x.Input)).ToList();
        var readers = mapped.Select(m => new FloatReader(m)).ToList();
        try
        {
            var theta0 = readers[p.Base];
            var models = p.Others.Select(i => readers[i]).ToList();
            var shape = tensor.Slot.Shape;
            var rows = shape.Length >= 2 ? shape[0] : 1;
            var rowEntries = theta0.Count / Math.Max(rows, 1);
            var blockEntries = blockRows * rowEntries;
            void Release(long from, long count)
            {
                foreach (var m in mapped) m.Release(from * m.Length / Math.Max(theta0.Count, 1), count * m.Length / Math.Max(theta0.Count, 1));
            }
            void Check(int nonFinite)
            {
                var input = Enumerable.Range(0, readers.Count).FirstOrDefault(i => (nonFinite & (1 << (i == p.Base ? 0 : p.Others.ToList().IndexOf(i) + 1))) != 0, -1);
                if (input >= 0) throw new MergeException($"tensor '{tensor.Inputs[input].Input}' of '{tensor.Inputs[input].Source.Model}' contains NaN or Inf");
            }

            var thresholds = new float[models.Count];
            var trim = p.Sparsification == Sparsification.Magnitude;
            if (trim)
            {
                // A tensor merged in one block stays mapped in between (the merge reads it again at once); a larger one is dropped block by block.
                var ks = p.Models.Select(m => m.Density >= 1 ? 0 : Sparsify.KeptEntries(m.Density, theta0.Count)).ToArray();
                thresholds = TrimThreshold.Find(theta0, models, ks, blockEntries, blockRows < rows ? Release : (_, _) => { }, out var nonFinite);
                Check(nonFinite);
                for (var m = 0; m < models.Count; m++)
                    if (p.Models[m].Density >= 1) thresholds[m] = 0;
            }
            var inputs = models.Select((r, m) => new KernelInput(r, (float)p.Models[m].Weight, thresholds[m], Precomputed: false)).ToList();
            var dtype = SafetensorsFile.DTypes[tensor.Slot.DType].Type;
            for (long start = 0; start < rows; start += blockRows)
            {
                using var scope = NewDisposeScope();
                var count = Math.Min(blockRows, rows - start);
                var block = shape.Length >= 2 ? empty([count, .. shape.Skip(1)], dtype) : empty(shape, dtype);
                var nonFinite = TaskVectorKernel.Merge(theta0, inputs, p.SignConsensus, p.Normalize, (float)p.Lambda, start * rowEntries, block);
                // Already checked with the thresholds when there were any; else checked here, before the block is written.
                if (!trim) Check(nonFinite);
                Release(start * rowEntries, count * rowEntries);
                write(block);
            }
        }
        finally
        {
            foreach (var r in readers) r.Dispose();
        }
    }
}
