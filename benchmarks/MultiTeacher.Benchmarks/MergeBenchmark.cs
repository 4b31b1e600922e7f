using System.Diagnostics;
using System.Text;
using MultiTeacher.Assets;
using MultiTeacher.Checkpoints;
using MultiTeacher.Merging;
using MultiTeacher.Models;
using static TorchSharp.torch;

namespace MultiTeacher.Benchmarks;

/// <summary>
/// Merging three Llama-3.2-1B-shaped bf16 models (random weights) with ties: throughput against
/// reading the same bytes through the same memory-mapped reader, and peak resident memory against
/// merging only the largest tensor. Every measurement runs in a fresh child process (a process's
/// peak RSS cannot be reset and glibc keeps freed memory), alternating read and merge runs.
/// </summary>
public static class MergeBenchmark
{
    private const int Runs = 3;

    public static BenchmarkSection Run(AssetStore _)
    {
        var root = Path.Combine(Path.GetTempPath(), "mt-bench-merge");
        Directory.CreateDirectory(root);
        var free = new DriveInfo(root).AvailableFreeSpace;
        var config = LlamaOneB();
        var perModel = ModelBytes(config);
        var layersNote = "";
        // Three inputs and one output must fit with room to spare; else fewer layers, same tensor shapes.
        if (Environment.GetEnvironmentVariable("MT_BENCH_MERGE_LAYERS") is { } layers) config.NumHiddenLayers = int.Parse(layers);
        while (4.5 * ModelBytes(config) > free && config.NumHiddenLayers > 1) config.NumHiddenLayers /= 2;
        if (config.NumHiddenLayers != 16)
            layersNote = $" Run with {config.NumHiddenLayers} of the 16 layers ({ModelBytes(config) / 1e9:F2} GB per model instead of {perModel / 1e9:F2} GB; " +
                         $"{free / 1e9:F0} GB free, MT_BENCH_MERGE_LAYERS={Environment.GetEnvironmentVariable("MT_BENCH_MERGE_LAYERS") ?? "unset"}): every tensor keeps its real shape.";
        try
        {
            var models = new[] { "base", "a", "b" }.Select((name, i) => WriteRandom(config, Path.Combine(root, name), i + 1)).ToArray();
            var yaml = Path.Combine(root, "ties.yaml");
            File.WriteAllText(yaml, $"merge_method: ties\nbase_model: {models[0]}\nmodels:\n" +
                string.Join("", models.Skip(1).Select(m => $"  - model: {m}\n    parameters:\n      weight: 0.5\n      density: 0.5\n")) + "dtype: bfloat16\n");
            var read = new List<ChildResult>();
            var merge = new List<ChildResult>();
            var largest = new List<ChildResult>();
            for (var run = 0; run < Runs; run++)
            {
                read.Add(Child("read", yaml, root));
                merge.Add(Child("merge", yaml, Path.Combine(root, "out")));
                largest.Add(Child("largest", yaml, root));
                Directory.Delete(Path.Combine(root, "out"), recursive: true);
                Console.Error.WriteLine($"merge run {run + 1}: read {read[^1].Seconds:F1} s, merge {merge[^1].Seconds:F1} s, peak {merge[^1].PeakBytes / 1e9:F2} GB (largest tensor alone {largest[^1].PeakBytes / 1e9:F2} GB)");
            }
            var bytes = 3.0 * ModelBytes(config);
            var embedding = (long)config.VocabSize * config.HiddenSize;
            var md = new StringBuilder();
            md.AppendLine($"Three bf16 models of Llama-3.2-1B's shape (hidden {config.HiddenSize}, {config.NumHiddenLayers} layers, intermediate {config.IntermediateSize}, " +
                          $"{config.NumAttentionHeads} heads / {config.KeyValueHeads} KV heads, vocab {config.VocabSize:N0}, tied embeddings), random weights written by the benchmark; " +
                          $"ties (base + two models, weight 0.5, density 0.5), bf16 output; {get_num_threads()} threads; tensors above {new MergeOptions().BlockElements / 1e6:F1} M entries " +
                          $"merged in row blocks of about that size, after two passes over the blocks that find TIES' trim thresholds of the whole tensor.{layersNote}");
            md.AppendLine($"Baseline: reading every tensor of the three models through the same memory-mapped reader in the same run ({bytes / 1e9:F2} GB). " +
                          $"Runs alternate read / merge / largest-tensor-only, {Runs} of each, each in a fresh process; medians with min–max.");
            md.AppendLine();
            md.AppendLine("| measurement | median | range | ratio |");
            md.AppendLine("|---|---|---|---|");
            var (readS, mergeS) = (BenchmarkReport.Median(read.Select(r => r.Seconds)), BenchmarkReport.Median(merge.Select(r => r.Seconds)));
            md.AppendLine($"| read the inputs (baseline) | {readS:F1} s ({bytes / readS / 1e9:F2} GB/s) | {read.Min(r => r.Seconds):F1}–{read.Max(r => r.Seconds):F1} s | 1.0x |");
            md.AppendLine($"| ties merge, read to written | {mergeS:F1} s ({bytes / mergeS / 1e9:F2} GB/s of input) | {merge.Min(r => r.Seconds):F1}–{merge.Max(r => r.Seconds):F1} s | **{readS / mergeS:F2}x** of read speed (goal ≥ 0.5x) |");
            var (peak, alone) = (BenchmarkReport.Median(merge.Select(r => (double)r.PeakBytes)), BenchmarkReport.Median(largest.Select(r => (double)r.PeakBytes)));
            md.AppendLine($"| peak RSS, reading the inputs | {BenchmarkReport.Median(read.Select(r => (double)r.PeakBytes)) / 1e9:F2} GB | {read.Min(r => r.PeakBytes) / 1e9:F2}–{read.Max(r => r.PeakBytes) / 1e9:F2} GB | |");
            md.AppendLine($"| peak RSS, whole merge | {peak / 1e9:F2} GB | {merge.Min(r => r.PeakBytes) / 1e9:F2}–{merge.Max(r => r.PeakBytes) / 1e9:F2} GB | |");
            md.AppendLine($"| peak RSS, merging only the largest tensor (embedding, {embedding / 1e6:F0} M entries, in row blocks) | {alone / 1e9:F2} GB | {largest.Min(r => r.PeakBytes) / 1e9:F2}–{largest.Max(r => r.PeakBytes) / 1e9:F2} GB | |");
            md.AppendLine($"| whole merge above the largest tensor's working set | **{(peak - alone) / 1e9:F2} GB** | | goal ≤ 1 GB |");
            return new BenchmarkSection("Merging", md.ToString());
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static ModelConfig LlamaOneB() => new()
    {
        ModelType = "llama", VocabSize = 128256, HiddenSize = 2048, IntermediateSize = 8192, NumHiddenLayers = 16,
        NumAttentionHeads = 32, NumKeyValueHeads = 8, HeadDimOverride = 64, RmsNormEps = 1e-5, RopeTheta = 500000,
        TieWordEmbeddings = true, MaxPositionEmbeddings = 131072,
    };

    /// <summary>bf16 bytes of a model, from the tensor shapes it is written with (building even a meta-device model of this size costs minutes here).</summary>
    private static long ModelBytes(ModelConfig c) => 2 * Shapes(c).Sum(s => s.Shape.Aggregate(1L, (a, b) => a * b));

    /// <summary>A bf16 model directory written tensor by tensor (never the whole model in memory).</summary>
    private static string WriteRandom(ModelConfig config, string dir, long seed)
    {
        Directory.CreateDirectory(dir);
        config.TorchDtype = "bfloat16";
        config.Save(dir);
        var slots = Shapes(config).Select(s => new TensorSlot(s.Name, "BF16", s.Shape)).ToList();
        using var generator = new Generator((ulong)seed);
        using var writer = new CheckpointWriter(dir, slots, long.MaxValue);
        foreach (var slot in slots)
        {
            using var scope = NewDisposeScope();
            writer.Write(slot.Name, (randn(slot.Shape, generator: generator) * 0.02).to(ScalarType.BFloat16));
        }
        writer.Complete();
        return dir;
    }

    private static IEnumerable<(string Name, long[] Shape)> Shapes(ModelConfig c)
    {
        long h = c.HiddenSize, q = c.NumAttentionHeads * c.HeadDim, kv = c.KeyValueHeads * c.HeadDim, m = c.IntermediateSize;
        yield return ("model.embed_tokens.weight", [c.VocabSize, h]);
        for (var i = 0; i < c.NumHiddenLayers; i++)
        {
            var p = $"model.layers.{i}.";
            yield return (p + "input_layernorm.weight", [h]);
            yield return (p + "self_attn.q_proj.weight", [q, h]);
            yield return (p + "self_attn.k_proj.weight", [kv, h]);
            yield return (p + "self_attn.v_proj.weight", [kv, h]);
            yield return (p + "self_attn.o_proj.weight", [h, q]);
            yield return (p + "post_attention_layernorm.weight", [h]);
            yield return (p + "mlp.gate_proj.weight", [m, h]);
            yield return (p + "mlp.up_proj.weight", [m, h]);
            yield return (p + "mlp.down_proj.weight", [h, m]);
        }
        yield return ("model.norm.weight", [h]);
    }

    private sealed record ChildResult(double Seconds, long PeakBytes);

    private static ChildResult Child(string mode, string config, string target)
    {
        var result = BenchmarkChild.Run("--merge-child", mode, config, target);
        return new ChildResult(result[0], (long)result[1]);
    }

    /// <summary>The child side: runs one measurement and prints "seconds peak_rss_bytes".</summary>
    public static int RunChild(string[] args)
    {
        var (mode, yaml, target) = (args[1], args[2], args[3]);
        var config = MergeConfigLoader.Load(yaml);
        var clock = Stopwatch.StartNew();
        switch (mode)
        {
            case "read":
                foreach (var model in config.Models)
                {
                    using var checkpoint = new Checkpoint(model);
                    foreach (var name in checkpoint.Names) checkpoint.Read(name).Dispose();
                }
                break;
            case "merge":
                ModelMerger.Run(config, target, new MergeOptions());
                break;
            case "largest":
                using (var sources = new MergeSources(config.Models))
                {
                    var (plan, _) = MergePlan.Build(config, sources);
                    ModelMerger.MergeTensor(config, plan.MaxBy(p => p.Slot.Bytes)!, sources, new MergeOptions(), _ => { });
                }
                break;
        }
        var seconds = clock.Elapsed.TotalSeconds;
        BenchmarkChild.Report(seconds, BenchmarkChild.PeakRssBytes());
        return 0;
    }
}
