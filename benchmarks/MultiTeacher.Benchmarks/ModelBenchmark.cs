using System.Diagnostics;
using System.Text;
using MultiTeacher.Assets;
using MultiTeacher.Models;
using MultiTeacher.Runtime;
using static TorchSharp.torch;

namespace MultiTeacher.Benchmarks;

/// <summary>
/// Forward throughput of a small Llama-style model on CPU, and its achieved FLOP/s as a ratio to a
/// plain fp32 matmul of the model's own MLP shape measured in the same run.
/// </summary>
public static class ModelBenchmark
{
    public static BenchmarkSection Run(AssetStore _)
    {
        var config = new ModelConfig
        {
            ModelType = "llama", VocabSize = 32000, HiddenSize = 512, IntermediateSize = 1408, NumHiddenLayers = 8,
            NumAttentionHeads = 8, NumKeyValueHeads = 4, RmsNormEps = 1e-5, RopeTheta = 10000,
        };
        using var model = new CausalLM(config);
        model.InitializeWeights(new Generator(1));
        model.eval();
        var md = new StringBuilder();
        md.AppendLine($"Model: Llama-style, {config.NumHiddenLayers} layers, hidden {config.HiddenSize}, MLP {config.IntermediateSize}, " +
                      $"{config.NumAttentionHeads} heads / {config.KeyValueHeads} KV heads, vocab {config.VocabSize:N0}, " +
                      $"{model.ParameterCount / 1e6:F1} M parameters, fp32, {get_num_threads()} threads.");
        md.AppendLine("FLOPs per forward: 2 x (matmul parameters incl. lm_head) x tokens + 4 x layers x hidden x T per token (full attention).");
        md.AppendLine($"glibc keeps freed blocks for reuse (`GlibcAllocator`, applied: {GlibcAllocator.KeepFreedMemory()}); with `MT_GLIBC_MALLOC=default` " +
                      "every forward pays first-touch page faults for its logits, and the ratio at 4 x 256 fell to 45% on this machine.");
        md.AppendLine();
        md.AppendLine("| batch x T | forward | tokens/s | model GFLOP/s | matmul GFLOP/s (same run) | ratio |");
        md.AppendLine("|---|---|---|---|---|---|");
        foreach (var (batch, t) in new[] { (4, 256), (2, 512), (1, 1024) })
        {
            var matmul = ModelFlops.LinearGflops(batch * t, config.HiddenSize, config.IntermediateSize, ScalarType.Float32);
            var seconds = ForwardSeconds(model, config, batch, t);
            var gflops = ModelFlops.Forward(config, Enumerable.Repeat(t, batch)) / seconds / 1e9;
            md.AppendLine($"| {batch} x {t} | {seconds * 1e3:F0} ms | {batch * t / seconds:N0} | {gflops:F1} | {matmul:F1} | **{100 * gflops / matmul:F0}%** |");
            Console.Error.WriteLine($"model {batch}x{t}: {gflops:F1} GFLOP/s vs matmul {matmul:F1}");
        }
        return new BenchmarkSection("Model forward throughput (CPU)", md.ToString());
    }

    private static double ForwardSeconds(CausalLM model, ModelConfig config, int batch, int t)
    {
        using var noGrad = no_grad();
        using var ids = randint(0, config.VocabSize, [batch, t]);
        var best = double.MaxValue;
        for (var i = 0; i < 4; i++)
        {
            using var scope = NewDisposeScope();
            var watch = Stopwatch.StartNew();
            model.forward(ids);
            if (i > 0) best = Math.Min(best, watch.Elapsed.TotalSeconds);   // first run warms caches and JIT
        }
        return best;
    }
}
