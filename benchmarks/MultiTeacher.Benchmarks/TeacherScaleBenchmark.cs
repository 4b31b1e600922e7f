using System.Text;
using MultiTeacher.Assets;
using MultiTeacher.Models;
using static TorchSharp.torch;

namespace MultiTeacher.Benchmarks;

/// <summary>
/// Teacher caching at published shapes in bf16 on CPU: Llama-3.2-1B over 8,192 tokens (model FLOP/s
/// against a bf16 linear layer in the same process, the share of top-k and encoding, peak memory
/// with the logits whole or in chunks), and Llama-3.1-8B loaded from a 16 GB checkpoint caching
/// 1,024 tokens (peak RSS against the weights). Random weights; each measurement a fresh process.
/// </summary>
public static class TeacherScaleBenchmark
{
    private static int Env(string name, int fallback) => int.TryParse(Environment.GetEnvironmentVariable(name), out var n) ? n : fallback;

    private static string ConfigFile(string name) => Path.Combine(BenchmarkReport.RepoRoot(), "benchmarks", "MultiTeacher.Benchmarks", "configs", name + ".json");

    public static BenchmarkSection RunBf16(AssetStore _)
    {
        var (texts, perText, rounds) = (Env("MT_BENCH_TEACHER_TEXTS", 8), Env("MT_BENCH_TEACHER_TOKENS", 1024), Env("MT_BENCH_TEACHER_ROUNDS", 2));
        var (dir, written) = RandomCheckpoint.Ensure(ConfigFile("llama-3.2-1b"), "llama-3.2-1b");
        var cache = TeacherCachingChild.Run("cache", dir, texts, perText, rounds);
        var whole = TeacherCachingChild.Run("records-whole", dir, texts, perText, 1);
        var chunked = TeacherCachingChild.Run("records-chunked", dir, texts, perText, 1);
        var config = ModelConfig.FromPretrained(dir);
        var md = new StringBuilder();
        md.AppendLine(Header("Llama-3.2-1B", config, dir, written, cache, texts, rounds));
        md.AppendLine();
        md.AppendLine(Throughput(config, cache, dir, texts));
        md.AppendLine();
        md.AppendLine("### Logits whole against in chunks along T (`TeacherRecords.Compute`, the same tokens, one process each)");
        md.AppendLine();
        md.AppendLine("| logits | time | peak RSS | peak RSS above the loaded model |");
        md.AppendLine("|---|---|---|---|");
        md.AppendLine($"| whole batch, ({texts} × {perText} × {config.VocabSize:N0}) float32 | {whole.CacheSeconds[0]:F1} s | {whole.PeakRss / 1e9:F2} GB | {(whole.PeakRss - whole.StartRss) / 1e9:F2} GB |");
        md.AppendLine($"| chunks of {Teachers.TeacherForward.DefaultChunkTokens} positions | {chunked.CacheSeconds[0]:F1} s | {chunked.PeakRss / 1e9:F2} GB | {(chunked.PeakRss - chunked.StartRss) / 1e9:F2} GB |");
        md.AppendLine($"| ratio | **{chunked.CacheSeconds[0] / whole.CacheSeconds[0]:F2}x** time | {whole.PeakRss / chunked.PeakRss:F2}x less | **{(whole.PeakRss - whole.StartRss) / (chunked.PeakRss - chunked.StartRss):F2}x** less |");
        return new BenchmarkSection("bf16 teacher caching at the Llama-3.2-1B shape (CPU)", md.ToString());
    }

    public static BenchmarkSection Run8b(AssetStore _)
    {
        var (texts, perText) = (Env("MT_BENCH_TEACHER8B_TEXTS", 2), Env("MT_BENCH_TEACHER8B_TOKENS", 512));
        var (dir, written) = RandomCheckpoint.Ensure(ConfigFile("llama-3.1-8b"), "llama-3.1-8b");
        var cache = TeacherCachingChild.Run("cache", dir, texts, perText, 1);
        var config = ModelConfig.FromPretrained(dir);
        var weights = new FileInfo(Path.Combine(dir, "model.safetensors")).Length;
        var md = new StringBuilder();
        md.AppendLine(Header("Llama-3.1-8B", config, dir, written, cache, texts, 1));
        md.AppendLine($"Loaded with `PretrainedModel.Load(dir, bfloat16)`: the model is built in bf16 and each tensor copied out of the memory-mapped safetensors file " +
                      $"(its pages are released from the process as they are copied); load took {cache.LoadSeconds:F0} s.");
        md.AppendLine();
        md.AppendLine("| weights | RSS once loaded | peak RSS | peak above the weights | goal |");
        md.AppendLine("|---|---|---|---|---|");
        var above = (cache.PeakRss - weights) / 1e9;
        md.AppendLine($"| {weights / 1e9:F2} GB | {cache.StartRss / 1e9:F2} GB | {cache.PeakRss / 1e9:F2} GB | **{above:F2} GB** | ≤ 3 GB: {(above <= 3 ? "met" : "not met")} |");
        md.AppendLine();
        md.AppendLine(Throughput(config, cache, dir, texts));
        return new BenchmarkSection("bf16 teacher caching at the Llama-3.1-8B shape (CPU)", md.ToString());
    }

    private static string Header(string name, ModelConfig c, string dir, double written, TeacherCachingResult r, int texts, int rounds) =>
        $"Teacher: {name}'s published config.json ({c.NumHiddenLayers} layers, hidden {c.HiddenSize}, MLP {c.IntermediateSize}, {c.NumAttentionHeads} heads / " +
        $"{c.KeyValueHeads} KV heads, vocab {c.VocabSize:N0}, {CausalLM.CountParameters(c) / 1e9:F2} B parameters), bf16, random weights " +
        $"({(written > 0 ? $"written in {written:F0} s" : "written by an earlier run and reused")} to {dir.Replace(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), "~")}). " +
        $"Data: {texts} nlp-corpus texts, {r.Tokens:N0} tokens in one batch, llama3 tokenizer; k = 64. {get_num_threads()} threads. " +
        $"Baseline: a bf16 linear layer of the model's MLP shape ({r.Tokens:N0} × {c.HiddenSize} → {c.IntermediateSize}) in the same process; " +
        $"{rounds} round(s) of (baseline, caching, forward alone), alternating; medians with min–max.";

    private static string Throughput(ModelConfig c, TeacherCachingResult r, string dir, int texts)
    {
        var lengths = Enumerable.Repeat((int)(r.Tokens / texts), texts);
        var flops = ModelFlops.Forward(c, lengths);
        string Cell(double[] v, Func<double, double> f, string format) =>
            $"{f(BenchmarkReport.Median(v)).ToString(format)} ({v.Select(f).Min().ToString(format)}–{v.Select(f).Max().ToString(format)})";
        var linear = BenchmarkReport.Median(r.LinearGflops);
        var forward = BenchmarkReport.Median(r.ForwardSeconds);
        var cache = BenchmarkReport.Median(r.CacheSeconds);
        var md = new StringBuilder();
        md.AppendLine("| measurement | value | ratio |");
        md.AppendLine("|---|---|---|");
        md.AppendLine($"| bf16 linear layer (baseline) | {Cell(r.LinearGflops, x => x, "F0")} GFLOP/s | 1.00 |");
        md.AppendLine($"| forward: body, then head and log-softmax 512 positions at a time | {Cell(r.ForwardSeconds, x => x, "F1")} s, " +
                      $"{flops / forward / 1e9:F0} GFLOP/s | **{100 * flops / forward / 1e9 / linear:F0}%** of the baseline (goal ≥ 60%) |");
        md.AppendLine($"| caching (`TeacherCaches.Build`: tokenize, forward, top-64, quantise, encode, write) | {Cell(r.CacheSeconds, x => x, "F1")} s, " +
                      $"{Cell(r.CacheSeconds, x => r.Tokens / x, "F0")} tokens/s | {100 * flops / cache / 1e9 / linear:F0}% of the baseline |");
        md.AppendLine($"| top-k and encoding: 1 − forward / caching | {100 * (1 - forward / cache):F1}% of the caching time | |");
        md.AppendLine($"| cache size | {r.CacheBytes / r.Tokens:F1} bytes/token | |");
        md.Append($"FLOPs per forward: {flops / 1e12:F2} T (2 × matmul parameters incl. lm_head × tokens + 4 × layers × heads × head dim × T per token).");
        return md.ToString();
    }
}
