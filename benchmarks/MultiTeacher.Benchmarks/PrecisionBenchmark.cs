using System.Diagnostics;
using System.Text;
using MultiTeacher.Assets;
using MultiTeacher.Corpora;
using MultiTeacher.Runs;
using MultiTeacher.Recipes;
using MultiTeacher.Training;

namespace MultiTeacher.Benchmarks;

/// <summary>
/// A student's training step with train.precision bfloat16 (a bfloat16 copy computes, AdamW updates
/// float32 master weights) against float32, in alternating runs; then what it does to the loss: the
/// same student, data, seed and schedule trained both ways, with the held-out bits per byte of each.
/// </summary>
public static class PrecisionBenchmark
{
    private const int Rounds = 3, TimedSteps = 4, LossSteps = 100, Batch = 8, Seq = 128, Hidden = 512, Layers = 4;
    private const double LearningRate = 0.002;

    /// <summary>10 warmup steps, or fewer in a run too short for them (a recipe's warmup must stay below its steps).</summary>
    private static int Warmup(int steps) => Math.Min(10, steps - 1);

    public static BenchmarkSection Run(AssetStore store)
    {
        var root = Directory.CreateTempSubdirectory("mt-bench-precision-").FullName;
        try { return Measure(store, root); }
        finally { Directory.Delete(root, recursive: true); }
    }

    private static BenchmarkSection Measure(AssetStore store, string root)
    {
        var brown = store.Require("corpora/brown");
        var train = new[] { "a", "j", "n" }.SelectMany(g => BrownCorpus.Read(brown, g).Take(12)).Select(d => d.Text);
        File.WriteAllText(Path.Combine(root, "train.txt"), string.Join("\n\n", train));
        File.WriteAllText(Path.Combine(root, "eval.txt"), string.Join("\n\n", new[] { "a", "j", "n" }.SelectMany(g => BrownCorpus.Read(brown, g).Skip(30).Take(2)).Select(d => d.Text)));
        var configDir = Directory.CreateDirectory(Path.Combine(root, "config")).FullName;
        var config = DistillationBenchmark.Config("mistral", 32000, Hidden, Layers);
        config.Save(configDir);
        string Recipe(string name, StudentPrecision precision, int steps)
        {
            var path = Path.Combine(root, name + ".yaml");
            File.WriteAllText(path, $"""
                name: {name}
                seed: 3
                data: {"{"} train: train.txt, eval: eval.txt, seq_len: {Seq} {"}"}
                student: {"{"} config: {Path.Combine(configDir, "config.json")}, tokenizer: {store.Require("tokenizers/mistral-7b-v0.1")} {"}"}
                train: {"{"} steps: {steps}, batch_size: {Batch}, lr: {LearningRate.ToString(System.Globalization.CultureInfo.InvariantCulture)}, warmup_steps: {Warmup(steps)}, precision: {RecipeYaml.Scalar(precision)} {"}"}
                eval: {"{"} every: 0, max_bytes: 40000 {"}"}
                output: {Path.Combine(root, "out", name)}
                """);
            return path;
        }

        var times = new Dictionary<StudentPrecision, List<double>> { [StudentPrecision.Float32] = [], [StudentPrecision.Bfloat16] = [] };
        for (var round = 0; round < Rounds; round++)
            foreach (var precision in times.Keys)
                times[precision].AddRange(Train(Recipe($"time-{round}-{precision}", precision, TimedSteps + 1)).StepSeconds.Skip(1));
        var runs = times.Keys.ToDictionary(p => p, p => Train(Recipe($"loss-{p}", p, LossSteps)));

        var (f32, bf16) = (times[StudentPrecision.Float32], times[StudentPrecision.Bfloat16]);
        var (m32, m16) = (BenchmarkReport.Median(f32), BenchmarkReport.Median(bf16));
        var md = new StringBuilder();
        md.AppendLine($"Student: Mistral vocabulary (32,000), {Layers} layers, hidden {Hidden}, MLP {config.IntermediateSize}, {Models.CausalLM.CountParameters(config):N0} parameters, random init; " +
                      $"batch {Batch} x {Seq} tokens of Brown press, learned and fiction text; hard-label CE, AdamW. Step = forward, loss in float32, backward, " +
                      $"gradients to float32 (bfloat16 only), clip, AdamW on float32 weights, weights back to bfloat16 (bfloat16 only). " +
                      $"{Rounds} alternating rounds of {TimedSteps} timed steps per precision (the first step of each run left out); medians with min–max. " +
                      $"{TorchSharp.torch.get_num_threads()} threads.");
        md.AppendLine();
        md.AppendLine("| step | time | ratio |");
        md.AppendLine("|---|---|---|");
        md.AppendLine($"| float32 (baseline) | {m32:F2} s ({f32.Min():F2}–{f32.Max():F2}) | 1.00x |");
        md.AppendLine($"| bfloat16 compute, float32 master weights | {m16:F2} s ({bf16.Min():F2}–{bf16.Max():F2}) | **{m16 / m32:F2}x** ({bf16.Min() / f32.Max():F2}–{bf16.Max() / f32.Min():F2}) |");
        md.AppendLine();
        md.AppendLine($"Effect on the loss: {LossSteps} steps each from the same initial weights, batches and schedule (lr {LearningRate}, {Warmup(LossSteps)} warmup steps, cosine); " +
                      "training loss as the mean over the steps shown; held-out bits per byte of the saved float32 student on 6 Brown documents the runs did not train on.");
        md.AppendLine();
        md.AppendLine($"| precision | loss, steps 1–10 | steps {LossSteps / 2 - 9}–{LossSteps / 2} | steps {LossSteps - 9}–{LossSteps} | held-out bits/byte |");
        md.AppendLine("|---|---|---|---|---|");
        // Mean training loss over steps from+1 .. from+10, at the start, the middle and the end.
        int[] windows = [0, LossSteps / 2 - 10, LossSteps - 10];
        double[] Row(TrainedRun run) => [.. windows.Select(from => run.Losses.Skip(from).Take(10).Average()), run.BitsPerByte];
        foreach (var (precision, run) in runs)
            md.AppendLine($"| {RecipeYaml.Scalar(precision)} | {string.Join(" | ", Row(run).Select(v => v.ToString("F4")))} |");
        var (a, b) = (Row(runs[StudentPrecision.Float32]), Row(runs[StudentPrecision.Bfloat16]));
        md.AppendLine($"| bfloat16 − float32 | {string.Join(" | ", b.Zip(a, (x, y) => (x - y).ToString("+0.0000;-0.0000")))} |");
        return new BenchmarkSection("Student mixed precision (bfloat16 compute, float32 master weights)", md.ToString());
    }

    private sealed record TrainedRun(List<double> StepSeconds, List<double> Losses, double BitsPerByte);

    private static TrainedRun Train(string recipePath)
    {
        using var run = new DistillationRecipe(RecipeLoader.Load(recipePath), TextWriter.Null);
        run.Setup();
        var (seconds, losses) = (new List<double>(), new List<double>());
        var watch = Stopwatch.StartNew();
        var result = run.Train(m => { seconds.Add(watch.Elapsed.TotalSeconds); losses.Add(m.Loss); watch.Restart(); });
        return new TrainedRun(seconds, losses, result.Evaluation[MetricNames.StudentBitsPerByte].BitsPerByte);
    }
}
