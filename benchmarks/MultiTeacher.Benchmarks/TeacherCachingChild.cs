using System.Diagnostics;
using MultiTeacher.Assets;
using MultiTeacher.Models;
using MultiTeacher.Teachers;
using MultiTeacher.Tokenization;
using static TorchSharp.torch;

namespace MultiTeacher.Benchmarks;

/// <summary>What one teacher-caching child process measured; the numbers travel as one line (<see cref="BenchmarkChild"/>).</summary>
public sealed record TeacherCachingResult(double LoadSeconds, double StartRss, double PeakRss, double Tokens, double CacheBytes,
    double[] LinearGflops, double[] CacheSeconds, double[] ForwardSeconds)
{
    public static TeacherCachingResult Parse(double[] v)
    {
        var rounds = (int)v[5];
        return new(v[0], v[1], v[2], v[3], v[4], v[6..(6 + rounds)], v[(6 + rounds)..(6 + 2 * rounds)], v[(6 + 2 * rounds)..(6 + 3 * rounds)]);
    }

    public double[] Numbers() => [LoadSeconds, StartRss, PeakRss, Tokens, CacheBytes, LinearGflops.Length, .. LinearGflops, .. CacheSeconds, .. ForwardSeconds];
}

/// <summary>
/// A bf16 teacher loaded from a safetensors directory, in a process of its own so its peak RSS is
/// its own. "cache": rounds of (bf16 linear baseline, `TeacherCaches.Build` over the texts, the
/// forward alone) alternating; "records-whole" / "records-chunked": `TeacherRecords.Compute` once
/// with the logits whole or 512 positions at a time.
/// </summary>
public static class TeacherCachingChild
{
    public const string Flag = "--teacher-child";

    /// <summary>Runs a child and returns what it measured.</summary>
    public static TeacherCachingResult Run(string variant, string modelDirectory, int texts, int tokensPerText, int rounds) =>
        TeacherCachingResult.Parse(BenchmarkChild.Run(Flag, variant, modelDirectory, texts.ToString(), tokensPerText.ToString(), rounds.ToString()));

    public static int RunChild(string[] args)
    {
        var (variant, directory, count, perText, rounds) = (args[1], args[2], int.Parse(args[3]), int.Parse(args[4]), int.Parse(args[5]));
        var tokenizer = HfTokenizer.FromDirectory(AssetStore.Default().Require("tokenizers/llama3"));
        var texts = Texts(tokenizer, count, perText);
        var sequences = texts.Select(t => tokenizer.EncodeToIds(t)).ToList();
        var clock = Stopwatch.StartNew();
        using var model = PretrainedModel.Load(directory, ScalarType.BFloat16);
        var load = clock.Elapsed.TotalSeconds;
        var start = BenchmarkChild.RssBytes();
        Console.Error.WriteLine($"teacher child {variant}: loaded in {load:F1} s, RSS {start / 1e9:F2} GB, {sequences.Sum(s => s.Length):N0} tokens");
        var c = model.Config;
        var tokens = sequences.Sum(s => s.Length);
        var (linear, cache, forward) = (new List<double>(), new List<double>(), new List<double>());
        double bytes = 0;
        if (variant == "cache")
        {
            var path = Path.Combine(Path.GetTempPath(), $"mt-bench-teacher-{Environment.ProcessId}.mtcache");
            try
            {
                for (var r = 0; r < rounds; r++)
                {
                    linear.Add(ModelFlops.LinearGflops(tokens, c.HiddenSize, c.IntermediateSize, ScalarType.BFloat16, repeats: 3));
                    clock.Restart();
                    var built = TeacherCaches.Build(model, tokenizer, texts, 64, "bench", path, batchSize: texts.Count);
                    cache.Add(clock.Elapsed.TotalSeconds);
                    bytes = built.SizeBytes;
                    clock.Restart();
                    TeacherForward.Chunks(model, sequences, TeacherForward.DefaultChunkTokens, (_, _) => { });
                    forward.Add(clock.Elapsed.TotalSeconds);
                    Console.Error.WriteLine($"teacher child round {r + 1}: linear {linear[^1]:F0} GFLOP/s, caching {cache[^1]:F1} s, forward {forward[^1]:F1} s");
                }
            }
            finally { File.Delete(path); }
        }
        else
        {
            linear.Add(ModelFlops.LinearGflops(tokens, c.HiddenSize, c.IntermediateSize, ScalarType.BFloat16, repeats: 3));
            clock.Restart();
            TeacherRecords.Compute(model, sequences, 64, variant == "records-whole" ? int.MaxValue : TeacherForward.DefaultChunkTokens);
            cache.Add(clock.Elapsed.TotalSeconds);
            forward.Add(double.NaN);
        }
        var result = new TeacherCachingResult(load, start, BenchmarkChild.PeakRssBytes(), tokens, bytes, [.. linear], [.. cache], [.. forward]);
        BenchmarkChild.Report(result.Numbers());
        return 0;
    }

    /// <summary>nlp-corpus lines joined into <paramref name="count"/> texts of about <paramref name="tokens"/> tokens each.</summary>
    private static List<string> Texts(HfTokenizer tokenizer, int count, int tokens)
    {
        var lines = TokenizeBenchmark.LoadLines(AssetStore.Default().Require("corpora/nlp-corpus"));
        var texts = new List<string>();
        var at = 0;
        while (texts.Count < count)
        {
            var parts = new List<string>();
            var n = 0;
            while (n < tokens - 2) { parts.Add(lines[at]); n += tokenizer.EncodeToIds(" " + lines[at++], addSpecialTokens: false).Length; }
            var text = string.Join(' ', parts);
            var ids = tokenizer.EncodeToIds(text, addSpecialTokens: false);
            texts.Add(tokenizer.Decode(ids[..Math.Min(ids.Length, tokens - 1)], skipSpecialTokens: false));
        }
        return texts;
    }
}
