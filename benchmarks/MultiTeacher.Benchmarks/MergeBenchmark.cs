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
/// reading the same bytes from disk through the same memory-mapped reader, and the merge's peak
/// resident memory against its peak once the largest tensor is merged. Every measurement runs in a
/// fresh child process (a process's peak RSS cannot be reset and glibc keeps freed memory), with
/// the inputs evicted from the page cache first, alternating read and merge runs.
/// </summary>
public static class MergeBenchmark
{
    private const string Largest = "model.embed_tokens.weight";

    public static BenchmarkSection Run(AssetStore _)
    {
        var root = Path.Combine(Path.GetTempPath(), "mt-bench-merge");
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        Directory.CreateDirectory(root);
        var free = new DriveInfo(root).AvailableFreeSpace;
        var config = MergeBenchmarkModels.LlamaOneB();
        var fullBytes = MergeBenchmarkModels.Bytes(config);
        if (Environment.GetEnvironmentVariable("MT_BENCH_MERGE_LAYERS") is { } layers) config.NumHiddenLayers = int.Parse(layers);
        // Three inputs and one output must fit with room to spare; else fewer layers, same tensor shapes.
        while (4.5 * MergeBenchmarkModels.Bytes(config) > free && config.NumHiddenLayers > 1) config.NumHiddenLayers /= 2;
        var merges = int.Parse(Environment.GetEnvironmentVariable("MT_BENCH_MERGE_RUNS") ?? "3");
        try
        {
            var clock = Stopwatch.StartNew();
            var models = new[] { "base", "a", "b" }.Select((name, i) => MergeBenchmarkModels.WriteRandom(config, Path.Combine(root, name), i + 1)).ToArray();
            MergeBenchmarkModels.Evict(models);
            var generation = clock.Elapsed.TotalSeconds;
            Console.Error.WriteLine($"merge: wrote three {MergeBenchmarkModels.Bytes(config) / 1e9:F2} GB models in {generation:F0} s");
            var yaml = Path.Combine(root, "ties.yaml");
            File.WriteAllText(yaml, $"merge_method: ties\nbase_model: {models[0]}\nmodels:\n" +
                string.Join("", models.Skip(1).Select(m => $"  - model: {m}\n    parameters:\n      weight: 0.5\n      density: 0.5\n")) + "dtype: bfloat16\n");
            var read = new List<ChildResult>();
            var merge = new List<ChildResult>();
            var output = Path.Combine(root, "out");
            for (var run = 0; run < merges; run++)
            {
                read.Add(Child("read", yaml, root, models));
                merge.Add(Child("merge", yaml, output, models));
                Directory.Delete(output, recursive: true);
                Console.Error.WriteLine($"merge run {run + 1}: read {read[^1].Seconds:F1} s, merge {merge[^1].Seconds:F1} s, peak {merge[^1].PeakBytes / 1e9:F2} GB ({merge[^1].PeakAfterLargest / 1e9:F2} GB after the largest tensor)");
            }
            read.Add(Child("read", yaml, root, models));
            // The last read left every input in the page cache: a merge from there measures the arithmetic and the writing alone.
            var warm = Child("merge", yaml, output, models, evict: false);
            Console.Error.WriteLine($"merge from the page cache: {warm.Seconds:F1} s");
            return new BenchmarkSection("Merging", Report(config, fullBytes, free, generation, read, merge, warm));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static string Report(ModelConfig config, long fullBytes, long free, double generation, List<ChildResult> read, List<ChildResult> merge, ChildResult warm)
    {
        var modelBytes = MergeBenchmarkModels.Bytes(config);
        var bytes = 3.0 * modelBytes;
        var embedding = (long)config.VocabSize * config.HiddenSize;
        var scope = config.NumHiddenLayers == 16
            ? "all 16 layers"
            : $"{config.NumHiddenLayers} of the 16 layers ({modelBytes / 1e9:F2} GB per model instead of {fullBytes / 1e9:F2} GB; {free / 1e9:F0} GB free): every tensor keeps its real shape";
        var md = new StringBuilder();
        md.AppendLine($"Three bf16 models of Llama-3.2-1B's shape (hidden {config.HiddenSize}, intermediate {config.IntermediateSize}, {config.NumAttentionHeads} heads / " +
                      $"{config.KeyValueHeads} KV heads, vocab {config.VocabSize:N0}, tied embeddings; {scope}), {modelBytes / 1e9:F2} GB each, random weights written by the " +
                      $"benchmark ({generation:F0} s for the three); ties (base + two models, weight 0.5, density 0.5), bf16 output; {get_num_threads()} threads. Tensors above " +
                      $"{new MergeOptions().BlockElements / 1e6:F1} M entries (only the {embedding / 1e6:F0} M-entry embedding) are merged in row blocks of about that size, " +
                      "after one pass over the blocks that finds TIES' trim thresholds of the whole tensor and checks the inputs for NaN and Inf, so the embedding is " +
                      "read twice. Inputs are read in place from the memory-mapped files and read ahead from disk; each block is written while the next one is merged.");
        md.AppendLine($"Baseline: reading every tensor of the three models ({bytes / 1e9:F2} GB) through the same memory-mapped reader in the same run. Runs alternate " +
                      $"read / merge ({read.Count} reads, {merge.Count} merges), each in a fresh process, each after the inputs were written out and dropped from the page " +
                      "cache, so both read from disk; medians with min–max. Peak RSS is the kernel's VmHWM; the merge reads it once more right after the embedding, its first " +
                      "and largest tensor, which is the working set of merging that tensor.");
        md.AppendLine();
        md.AppendLine("| measurement | median | range | ratio |");
        md.AppendLine("|---|---|---|---|");
        var (readS, mergeS) = (BenchmarkReport.Median(read.Select(r => r.Seconds)), BenchmarkReport.Median(merge.Select(r => r.Seconds)));
        md.AppendLine($"| read the inputs (baseline) | {readS:F1} s ({bytes / readS / 1e9:F2} GB/s) | {read.Min(r => r.Seconds):F1}–{read.Max(r => r.Seconds):F1} s | 1.0x |");
        md.AppendLine($"| ties merge, read to written | {mergeS:F1} s ({bytes / mergeS / 1e9:F2} GB/s of input) | {merge.Min(r => r.Seconds):F1}–{merge.Max(r => r.Seconds):F1} s | **{readS / mergeS:F2}x** of read speed (goal ≥ 0.5x) |");
        md.AppendLine($"| ties merge with the inputs already in the page cache (one run, after the last read) | {warm.Seconds:F1} s ({bytes / warm.Seconds / 1e9:F2} GB/s of input) | | {readS / warm.Seconds:F2}x |");
        string Gb(IEnumerable<double> v) => $"{BenchmarkReport.Median(v) / 1e9:F2} GB | {v.Min() / 1e9:F2}–{v.Max() / 1e9:F2} GB";
        md.AppendLine($"| peak RSS, reading the inputs | {Gb(read.Select(r => (double)r.PeakBytes))} | |");
        md.AppendLine($"| peak RSS of the merge once the embedding ({embedding / 1e6:F0} M entries, in row blocks) is merged | {Gb(merge.Select(r => (double)r.PeakAfterLargest))} | |");
        md.AppendLine($"| peak RSS, whole merge | {Gb(merge.Select(r => (double)r.PeakBytes))} | |");
        var above = BenchmarkReport.Median(merge.Select(r => (double)(r.PeakBytes - r.PeakAfterLargest)));
        md.AppendLine($"| whole merge above the largest tensor's working set | **{above / 1e9:F2} GB** | | goal ≤ 1 GB |");
        return md.ToString();
    }

    private sealed record ChildResult(double Seconds, long PeakBytes, long PeakAfterLargest);

    private static ChildResult Child(string mode, string config, string target, string[] models, bool evict = true)
    {
        if (evict) MergeBenchmarkModels.Evict(models);
        var result = BenchmarkChild.Run("--merge-child", mode, config, target);
        return new ChildResult(result[0], (long)result[1], (long)result[2]);
    }

    /// <summary>The child side: runs one measurement and prints "seconds peak_rss_bytes peak_rss_after_largest_bytes".</summary>
    public static int RunChild(string[] args)
    {
        var (mode, yaml, target) = (args[1], args[2], args[3]);
        var config = MergeConfigLoader.Load(yaml);
        var clock = Stopwatch.StartNew();
        long afterLargest = 0;
        if (mode == "read")
            foreach (var model in config.Models)
            {
                using var checkpoint = new Checkpoint(model);
                foreach (var name in checkpoint.Names) checkpoint.Read(name).Dispose();
            }
        else
            ModelMerger.Run(config, target, new MergeOptions(), line =>
            {
                if (line.EndsWith(" " + Largest)) afterLargest = BenchmarkChild.PeakRssBytes();
            });
        var seconds = clock.Elapsed.TotalSeconds;
        BenchmarkChild.Report(seconds, BenchmarkChild.PeakRssBytes(), afterLargest);
        return 0;
    }
}
