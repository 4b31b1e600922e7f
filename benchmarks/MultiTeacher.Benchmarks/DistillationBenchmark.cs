using System.Diagnostics;
using System.Text;
using System.Text.Json;
using MultiTeacher.Assets;
using MultiTeacher.Cache;
using MultiTeacher.Corpora;
using MultiTeacher.Models;
using MultiTeacher.Recipes;
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
        foreach (var (name, type, tokenizer, vocab) in Teachers)
        {
            var dir = Path.Combine(root, name);
            using var model = new CausalLM(Config(type, vocab, hidden: 128, layers: 2));
            model.InitializeWeights(new Generator(7), std: 0.05);
            PretrainedModel.Save(model, dir, store.Require($"tokenizers/{tokenizer}"));
            teachers.AppendLine($"  - {{ name: {name}, path: {dir} }}");
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

        var cacheRoot = Path.Combine(root, "cache");
        var plain = StepSeconds(Recipe("plain", false), cacheRoot);
        var distill = StepSeconds(Recipe("distill", true), cacheRoot);   // builds the caches in setup, outside the timed steps
        var (bytesPerToken, meanKl, maxKl) = CacheFidelity(root);

        var md = new StringBuilder();
        md.AppendLine($"Student: Mistral vocabulary, 4 layers, hidden 256; batch {batch} x {seq} tokens; teachers: 2 layers, hidden 128, one per vocabulary; " +
                      $"median of {steps - 1} steps after the first.");
        md.AppendLine();
        md.AppendLine("| step | time | ratio to plain CE |");
        md.AppendLine("|---|---|---|");
        md.AppendLine($"| plain cross-entropy (baseline) | {plain * 1e3:F0} ms | 1.00x |");
        md.AppendLine($"| distillation, 3 cached teachers (align, project, mix, KL) | {distill * 1e3:F0} ms | **{distill / plain:F2}x** |");
        md.AppendLine();
        md.AppendLine($"Teacher cache at k = 64 on these teachers' outputs: **{bytesPerToken:F1} bytes per token per teacher**; " +
                      $"KL(exact top-k ‖ decoded) mean {meanKl:E1}, max {maxKl:E1} nats (full vocabulary, tail spread as in training).");
        return new BenchmarkSection("Distillation step and teacher cache", md.ToString());
    }

    private static ModelConfig Config(string type, int vocab, int hidden, int layers) => new()
    {
        ModelType = type, VocabSize = vocab, HiddenSize = hidden, IntermediateSize = hidden * 2, NumHiddenLayers = layers,
        NumAttentionHeads = 4, NumKeyValueHeads = 2, RmsNormEps = 1e-6, RopeTheta = 10000, TieWordEmbeddings = type != "mistral",
        HeadDimOverride = type == "qwen3" ? hidden / 4 : null,
    };

    private static double StepSeconds(string recipePath, string cacheRoot)
    {
        using var run = DistillationRecipe.Setup(RecipeLoader.Load(recipePath), TextWriter.Null, cacheRoot);
        var times = new List<double>();
        var watch = Stopwatch.StartNew();
        run.Train(_ => { times.Add(watch.Elapsed.TotalSeconds); watch.Restart(); });
        return times.Skip(1).Order().ElementAt((times.Count - 1) / 2);
    }

    // Re-encode every cached position from the teacher's exact top-k and compare.
    private static (double BytesPerToken, double MeanKl, double MaxKl) CacheFidelity(string root)
    {
        using var teacher = PretrainedModel.Load(Path.Combine(root, "llama"));
        var tokenizer = Tokenization.HfTokenizer.FromDirectory(Path.Combine(root, "llama"));
        var text = File.ReadAllText(Path.Combine(root, "train.txt"))[..4000];
        var ids = tokenizer.EncodeToIds(text)[..256];
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var logProbs = nn.functional.log_softmax(teacher.forward(tensor(ids.Select(i => (long)i).ToArray()).unsqueeze(0)), -1)[0];
        var (values, indices) = logProbs.topk(64, dim: -1);
        double sum = 0, max = 0;
        long bytes = 0;
        for (var t = 0; t < ids.Length; t++)
        {
            var lp = values[t].data<float>().ToArray();
            var id = indices[t].to(ScalarType.Int32).data<int>().ToArray();
            var tail = (float)Math.Max(0, 1 - lp.Sum(x => Math.Exp(x)));
            using var stream = new MemoryStream();
            TopKCodec.Encode(id, lp, tail, stream);
            bytes += stream.Length;
            ReadOnlySpan<byte> encoded = stream.ToArray();
            var kl = TopKCodec.Kl(id, lp, tail, TopKCodec.Decode(ref encoded), (int)logProbs.shape[^1]);
            sum += kl;
            max = Math.Max(max, kl);
        }
        return ((double)bytes / ids.Length, sum / ids.Length, max);
    }
}
