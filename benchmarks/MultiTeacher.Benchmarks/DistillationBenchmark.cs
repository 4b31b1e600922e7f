using System.Diagnostics;
using System.Text;
using System.Text.Json;
using MultiTeacher.Assets;
using MultiTeacher.Cache;
using MultiTeacher.Corpora;
using MultiTeacher.Models;
using MultiTeacher.Recipes;
using MultiTeacher.Teachers;
using MultiTeacher.Training;
using static TorchSharp.torch;

namespace MultiTeacher.Benchmarks;

/// <summary>
/// One distillation step with three cached teachers (Llama 3, Mistral and Qwen3 vocabularies) against a
/// plain cross-entropy step of the same student on the same batches, and the teacher cache's size
/// and fidelity on those teachers' real outputs.
/// </summary>
public static class DistillationBenchmark
{
    private static readonly (string Name, string Type, string Tokenizer, int Vocab)[] Teachers =
        [("llama", "llama", "llama3", 128256), ("mistral", "mistral", "mistral-7b-v0.1", 32000), ("qwen", "qwen3", "qwen3", 151936)];

    private const int TeacherSteps = 60, Rounds = 3;

    public static BenchmarkSection Run(AssetStore store)
    {
        var root = Directory.CreateTempSubdirectory("mt-bench-distill-").FullName;
        try { return Measure(store, root); }
        finally { Directory.Delete(root, recursive: true); }
    }

    private static BenchmarkSection Measure(AssetStore store, string root)
    {
        var docs = BrownCorpus.Read(store.Require("corpora/brown"), "j").Take(6).Select(d => d.Text).ToList();
        File.WriteAllText(Path.Combine(root, "train.txt"), string.Join("\n\n", docs));
        var teachers = new StringBuilder();
        var cacheRoot = Path.Combine(root, "cache");
        foreach (var (name, type, tokenizer, vocab) in Teachers)
        {
            // Teachers trained briefly on hard labels: an untrained model's near-uniform top-k says nothing about a real cache.
            var configDir = Directory.CreateDirectory(Path.Combine(root, name + "-config")).FullName;
            Config(type, vocab, hidden: 128, layers: 2).Save(configDir);
            var teacherRecipe = Path.Combine(root, name + ".yaml");
            File.WriteAllText(teacherRecipe, $"""
                name: {name}
                seed: 7
                data: {"{"} train: train.txt, seq_len: 64 {"}"}
                student: {"{"} config: {Path.Combine(configDir, "config.json")}, tokenizer: {store.Require($"tokenizers/{tokenizer}")} {"}"}
                train: {"{"} steps: {TeacherSteps}, batch_size: 8, lr: 0.004, warmup_steps: 4 {"}"}
                output: {Path.Combine(root, "teachers", name)}
                """);
            using (var run = new DistillationRecipe(RecipeLoader.Load(teacherRecipe), TextWriter.Null, cacheRoot)) { run.Setup(); run.Train(); }
            teachers.AppendLine($"  - {{ name: {name}, path: {Path.Combine(root, "teachers", name, "student")} }}");
        }
        var studentDir = Directory.CreateDirectory(Path.Combine(root, "student-config")).FullName;
        Config("mistral", 32000, hidden: 256, layers: 4).Save(studentDir);
        var studentConfig = Path.Combine(studentDir, "config.json");
        const int steps = 6, batch = 8, seq = 64;
        string Recipe(string name, bool withTeachers)
        {
            var path = Path.Combine(root, name + ".yaml");
            File.WriteAllText(path, $"""
                name: {name}
                seed: 1
                data: {"{"} train: train.txt, seq_len: {seq} {"}"}
                {(withTeachers ? "teachers:\n" + teachers : "")}
                student: {"{"} config: {studentConfig}, tokenizer: {store.Require("tokenizers/mistral-7b-v0.1")} {"}"}
                alignment: {"{"} top_k: 64 {"}"}
                train: {"{"} steps: {steps}, batch_size: {batch}, lr: 0.001 {"}"}
                output: {Path.Combine(root, "out", name)}
                """);
            return path;
        }

        // Alternate the two so neither gets the quieter half of the run; the first build of the caches happens in setup, untimed.
        var (plainTimes, distillTimes) = (new List<double>(), new List<double>());
        for (var round = 0; round < Rounds; round++)
        {
            plainTimes.AddRange(StepSeconds(Recipe("plain", false), cacheRoot));
            distillTimes.AddRange(StepSeconds(Recipe("distill", true), cacheRoot));
        }
        var (plain, distill) = (BenchmarkReport.Median(plainTimes), BenchmarkReport.Median(distillTimes));
        var heldOut = BrownCorpus.Read(store.Require("corpora/brown"), "a").Take(4).SelectMany(d => Chunks(d.Text, 600)).Take(48).ToList();
        var fidelity = Teachers.Select(t => (t.Name, Fidelity: CacheFidelity(Path.Combine(root, "teachers", t.Name, "student"), heldOut, Path.Combine(root, t.Name + ".mtcache")))).ToList();

        var md = new StringBuilder();
        md.AppendLine($"Student: Mistral vocabulary, 4 layers, hidden 256; batch {batch} x {seq} tokens; teachers: 2 layers, hidden 128, one per vocabulary, {TeacherSteps} steps on hard labels; " +
                      $"median of {Rounds} x {steps - 1} steps (the first of each run left out), the two kinds of run alternating.");
        md.AppendLine();
        md.AppendLine("| step | time | ratio to plain CE |");
        md.AppendLine("|---|---|---|");
        md.AppendLine($"| plain cross-entropy (baseline) | {plain * 1e3:F0} ms | 1.00x |");
        md.AppendLine($"| distillation, 3 cached teachers (align, project, mix, KL) | {distill * 1e3:F0} ms | **{distill / plain:F2}x** |");
        md.AppendLine();
        md.AppendLine($"### Teacher cache at k = 64 ({heldOut.Count} press texts the teachers did not train on)");
        md.AppendLine();
        md.AppendLine("Baseline: the top-k as the teacher's tensors hold it, an int32 id and an fp16 log-prob per entry plus an fp16 tail (6k + 2 bytes). " +
                      $"KL(exact top-k ‖ decoded) over the full vocabulary with the tail spread as in training; the encoder's per-position budget is {TopKCodec.KlBudget:G2} nats.");
        md.AppendLine();
        md.AppendLine("| teacher (vocabulary) | baseline bytes/token | cache bytes/token | ratio | entries kept | KL mean | KL max | encode | decode |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var (name, f) in fidelity)
            md.AppendLine($"| {name} ({Teachers.First(t => t.Name == name).Vocab:N0}) | {6 * 64 + 2} | **{f.BytesPerToken:F1}** | {f.BytesPerToken / (6 * 64 + 2):F2}x | {f.Kept:F1} | " +
                          $"{f.MeanKl:E1} | {f.MaxKl:E1} | {f.EncodeMicros:F0} µs/token | {f.DecodeMicros:F0} µs/token |");
        return new BenchmarkSection("Distillation step and teacher cache", md.ToString());
    }

    internal static ModelConfig Config(string type, int vocab, int hidden, int layers) => new()
    {
        ModelType = type, VocabSize = vocab, HiddenSize = hidden, IntermediateSize = hidden * 2, NumHiddenLayers = layers,
        NumAttentionHeads = 4, NumKeyValueHeads = 2, RmsNormEps = 1e-6, RopeTheta = 10000, TieWordEmbeddings = type != "mistral",
        HeadDimOverride = type == "qwen3" ? hidden / 4 : null,
    };

    private static IEnumerable<double> StepSeconds(string recipePath, string cacheRoot)
    {
        using var run = new DistillationRecipe(RecipeLoader.Load(recipePath), TextWriter.Null, cacheRoot);
        run.Setup();
        var times = new List<double>();
        var watch = Stopwatch.StartNew();
        run.Train(_ => { times.Add(watch.Elapsed.TotalSeconds); watch.Restart(); });
        return times.Skip(1);
    }


    internal static IEnumerable<string> Chunks(string text, int size)
    {
        for (var at = 0; at + size <= text.Length; at += size) yield return text.Substring(at, size);
    }

    // Cache the teacher's exact top-k over the texts through the real file format, read it back, and compare.
    private static (double BytesPerToken, double Kept, double MeanKl, double MaxKl, double EncodeMicros, double DecodeMicros) CacheFidelity(
        string teacherDir, IReadOnlyList<string> texts, string path)
    {
        using var teacher = PretrainedModel.Load(teacherDir);
        var tokenizer = Tokenization.HfTokenizer.FromDirectory(teacherDir);
        var vocab = teacher.Config.VocabSize;
        var exact = new List<(int[] Ids, float[] LogProbs, float Tail)[]>();
        foreach (var text in texts)
        {
            var computed = TeacherRecords.Compute(teacher, [tokenizer.EncodeToIds(text)], 64);
            exact.Add(Enumerable.Range(0, computed.Lengths[0]).Select(t => (computed.Ids(0, t).ToArray(), computed.LogProbs(0, t).ToArray(), computed.Tail(0, t))).ToArray());
        }
        var positions = exact.Sum(r => r.Length);
        var watch = Stopwatch.StartNew();
        var records = exact.Select(r => r.Select(e => TopKCodec.Quantize(e.Ids, e.LogProbs, e.Tail, vocab)).ToArray()).ToList();
        var cache = TeacherCache.Write(records, "benchmark", 64, vocab, path);
        var encode = watch.Elapsed.TotalSeconds;
        watch.Restart();
        var decoded = Enumerable.Range(0, records.Count).Select(cache.Read).ToList();
        var decode = watch.Elapsed.TotalSeconds;
        double sum = 0, max = 0, kept = 0;
        for (var r = 0; r < exact.Count; r++)
            for (var t = 0; t < exact[r].Length; t++)
            {
                var kl = TopKCodec.Kl(exact[r][t].Ids, exact[r][t].LogProbs, exact[r][t].Tail, decoded[r][t], vocab);
                (sum, max, kept) = (sum + kl, Math.Max(max, kl), kept + decoded[r][t].Ids.Length);
            }
        return (new FileInfo(path).Length / (double)positions, kept / positions, sum / positions, max, encode * 1e6 / positions, decode * 1e6 / positions);
    }
}
