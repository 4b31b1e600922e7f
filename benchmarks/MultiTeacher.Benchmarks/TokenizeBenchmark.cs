using System.Diagnostics;
using System.Text;
using System.Text.Json;
using MultiTeacher.Assets;
using MultiTeacher.Tokenization;

namespace MultiTeacher.Benchmarks;

/// <summary>
/// Tokenizer throughput on the nlp-corpus sentences, single thread and all cores, against Hugging
/// Face's Rust tokenizers (Node binding) on the same lines in the same run, with an id checksum.
/// </summary>
public static class TokenizeBenchmark
{
    private static readonly IReadOnlyList<string> Families = AssetManifest.TokenizerFamilies();

    public static BenchmarkSection Run(AssetStore store)
    {
        var lines = LoadLines(store.Require("corpora/nlp-corpus"));
        var bytes = lines.Sum(l => (long)Encoding.UTF8.GetByteCount(l));
        var linesFile = Path.Combine(Path.GetTempPath(), $"mt-bench-lines-{Environment.ProcessId}.txt");
        File.WriteAllText(linesFile, string.Join('\n', lines));
        try
        {
            var md = new StringBuilder();
            md.AppendLine($"Text: nlp-corpus, {lines.Length:N0} lines, {bytes / 1e6:F2} MB. Reference: Hugging Face `tokenizers` " +
                          "(Rust, Node binding; `encode` per line for one thread, `encodeBatch` of 1024 lines for all cores).");
            md.AppendLine();
            md.AppendLine("| family | ours, 1 thread | HF, 1 thread | ratio | ours, all cores | HF, all cores | ratio | identical ids |");
            md.AppendLine("|---|---|---|---|---|---|---|---|");
            // Bring the encoder to tiered-up JIT code first; the tokenizer used here is thrown away.
            var throwaway = HfTokenizer.FromDirectory(store.Require($"tokenizers/{Families[0]}"));
            foreach (var line in lines) throwaway.EncodeToIds(line, addSpecialTokens: false);
            foreach (var family in Families)
            {
                var dir = store.Require($"tokenizers/{family}");
                var reference = RunReference(Path.Combine(dir, "tokenizer.json"), linesFile);
                var (single, all, tokens, hash) = Measure(() => HfTokenizer.FromDirectory(dir), lines, bytes);
                var same = tokens == reference.Tokens && hash == reference.IdsHash;
                md.AppendLine($"| {family} | {single:F1} MB/s | {reference.SingleMBps:F1} MB/s | **{single / reference.SingleMBps:F1}x** | " +
                              $"{all:F1} MB/s | {reference.BatchMBps:F1} MB/s | **{all / reference.BatchMBps:F1}x** | {(same ? "yes" : "NO")} ({tokens:N0} tokens) |");
                Console.Error.WriteLine($"tokenize {family}: {single:F1} / {all:F1} MB/s vs HF {reference.SingleMBps:F1} / {reference.BatchMBps:F1}");
            }
            return new BenchmarkSection("Tokenization throughput", md.ToString());
        }
        finally { File.Delete(linesFile); }
    }

    public static string[] LoadLines(string dir) =>
        Directory.GetFiles(dir, "*.json").Order(StringComparer.Ordinal)
            .SelectMany(f => JsonSerializer.Deserialize<string[]>(File.ReadAllText(f))!)
            .Select(s => s.Replace('\n', ' '))
            .ToArray();

    // Each pass gets a fresh tokenizer (empty word cache) warmed on the same first tenth of the
    // lines as the reference, so neither side profits from a cache the other lacks.
    private static (double Single, double All, long Tokens, string Hash) Measure(Func<HfTokenizer> load, string[] lines, long bytes)
    {
        var tok = Warm(load(), lines);
        var results = new int[lines.Length][];
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < lines.Length; i++) results[i] = tok.EncodeToIds(lines[i], addSpecialTokens: false);
        var single = bytes / 1e6 / watch.Elapsed.TotalSeconds;

        tok = Warm(load(), lines);
        watch.Restart();
        Parallel.For(0, lines.Length, i => tok.EncodeToIds(lines[i], addSpecialTokens: false));
        var all = bytes / 1e6 / watch.Elapsed.TotalSeconds;

        var hash = 0xcbf29ce484222325UL;
        long tokens = 0;
        foreach (var ids in results)
            foreach (var id in ids) { hash = (hash ^ (ulong)id) * 0x100000001b3UL; tokens++; }
        return (single, all, tokens, hash.ToString("x"));
    }

    private static HfTokenizer Warm(HfTokenizer tok, string[] lines)
    {
        foreach (var line in lines.Take(lines.Length / 10)) tok.EncodeToIds(line, addSpecialTokens: false);
        return tok;
    }

    private sealed record Reference(double SingleMBps, double BatchMBps, long Tokens, string IdsHash);

    private static Reference RunReference(string tokenizerJson, string linesFile)
    {
        var toolDir = Path.Combine(BenchmarkReport.RepoRoot(), "tools", "reference");
        if (!Directory.Exists(Path.Combine(toolDir, "node_modules", "tokenizers")))
            Run("npm", ["ci", "--no-audit", "--no-fund", "--silent"], toolDir);
        var output = Run("node", ["bench-tokenizers.mjs", tokenizerJson, linesFile], toolDir);
        using var doc = JsonDocument.Parse(output.Trim().Split('\n')[^1]);
        var r = doc.RootElement;
        return new Reference(r.GetProperty("singleMBps").GetDouble(), r.GetProperty("batchMBps").GetDouble(),
            r.GetProperty("tokens").GetInt64(), r.GetProperty("idsHash").GetString()!);
    }

    private static string Run(string file, string[] args, string workDir)
    {
        var psi = new ProcessStartInfo(file, args) { WorkingDirectory = workDir, RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed: {stderr.Result}");
        return stdout;
    }
}
