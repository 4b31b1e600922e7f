using System.Diagnostics;
using System.Text;
using MultiTeacher.Assets;
using MultiTeacher.Losses;
using MultiTeacher.Mixing;
using MultiTeacher.Models;
using MultiTeacher.Teachers;
using MultiTeacher.Training;
using static TorchSharp.torch;

namespace MultiTeacher.Benchmarks;

/// <summary>
/// Logits memory at a large vocabulary: a student training step (hard-label CE + forward KL against a
/// k = 64 teacher support at half the positions, AdamW) and a teacher's top-k caching, with the
/// logits whole against in chunks of positions. Each measurement is a fresh process (peak RSS from
/// the kernel), variants alternate, medians with min–max.
/// </summary>
public static class LogitsBenchmark
{
    // Smaller settings for a busy machine come from the environment; the section states what ran.
    private static int Runs => Env("MT_BENCH_LOGITS_RUNS", 3);
    private static int Batch => Env("MT_BENCH_LOGITS_BATCH", 4);
    private static int Length => Env("MT_BENCH_LOGITS_SEQ", 1024);
    private static int Hidden => Env("MT_BENCH_LOGITS_HIDDEN", 256);
    private static int TimedSteps => Env("MT_BENCH_LOGITS_STEPS", 2);
    private const int Vocab = 128256, Chunk = 512, TeacherBatch = 8, TeacherLength = 512;

    private static int Env(string name, int fallback) => int.TryParse(Environment.GetEnvironmentVariable(name), out var n) ? n : fallback;

    /// <summary>A Llama-3-vocabulary model with a small body: the head (vocab × hidden) dominates the step.</summary>
    private static ModelConfig Config() => new()
    {
        ModelType = "llama", VocabSize = Vocab, HiddenSize = Hidden, IntermediateSize = 2 * Hidden, NumHiddenLayers = 2,
        NumAttentionHeads = 4, NumKeyValueHeads = 2, RmsNormEps = 1e-5, RopeTheta = 500000, MaxPositionEmbeddings = 4096,
    };

    public static BenchmarkSection Run(AssetStore _)
    {
        var rows = new Dictionary<string, List<double[]>>();
        foreach (var v in new[] { "student-whole", "student-chunked", "teacher-whole", "teacher-chunked" }) rows[v] = [];
        for (var run = 0; run < Runs; run++)
            foreach (var variant in rows.Keys)
            {
                rows[variant].Add(BenchmarkChild.Run("--logits-child", variant, Batch.ToString(), Length.ToString()));
                Console.Error.WriteLine($"logits run {run + 1} {variant}: {rows[variant][^1][0]:F2} s, peak {rows[variant][^1][1] / 1e9:F2} GB, at start {rows[variant][^1][2] / 1e9:F2} GB");
            }
        var c = Config();
        var md = new StringBuilder();
        md.AppendLine($"Student: Llama-shaped, vocab {Vocab:N0}, hidden {c.HiddenSize}, {c.NumHiddenLayers} layers (the head is {(double)Vocab * c.HiddenSize / 1e6:F1} M of " +
                      $"{CausalLM.CountParameters(c) / 1e6:F1} M parameters), float32, random weights; batch {Batch} × {Length} tokens; one step = forward, hard-label CE " +
                      $"+ forward KL (α 0.5) against a k = 64 support with a tail at every other position, backward, AdamW. {TimedSteps} timed step(s) after one warm-up step. " +
                      $"Teacher: the same model caching top-64 records over {TeacherBatch} × {TeacherLength} tokens (`TeacherRecords.Compute`). " +
                      $"Chunked: {Chunk} positions' logits at a time (`train.logits_chunk: {Chunk}`; the teacher's default). {get_num_threads()} threads; " +
                      $"{Runs} alternating runs of each variant, each a fresh process; medians with min–max. " +
                      "\"Above start\" is peak RSS minus the RSS once the model (and optimizer) exist: the logits, activations, gradients and optimizer state of the step.");
        md.AppendLine();
        md.AppendLine("| measurement | whole batch | chunked | ratio |");
        md.AppendLine("|---|---|---|---|");
        foreach (var who in new[] { "student", "teacher" })
        {
            var (w, k) = (rows[$"{who}-whole"], rows[$"{who}-chunked"]);
            string Cell(List<double[]> r, int i, double scale, string unit, string f) =>
                $"{BenchmarkReport.Median(r.Select(x => x[i] / scale)).ToString(f)} {unit} ({r.Min(x => x[i] / scale).ToString(f)}–{r.Max(x => x[i] / scale).ToString(f)})";
            double Med(List<double[]> r, Func<double[], double> f) => BenchmarkReport.Median(r.Select(f));
            var what = who == "student" ? "step time" : "caching time";
            md.AppendLine($"| {who}: {what} | {Cell(w, 0, 1, "s", "F2")} | {Cell(k, 0, 1, "s", "F2")} | **{Med(k, x => x[0]) / Med(w, x => x[0]):F2}x** time{(who == "student" ? " (goal ≤ 1.1x)" : "")} |");
            md.AppendLine($"| {who}: peak RSS | {Cell(w, 1, 1e9, "GB", "F2")} | {Cell(k, 1, 1e9, "GB", "F2")} | {Med(w, x => x[1]) / Med(k, x => x[1]):F2}x less |");
            md.AppendLine($"| {who}: peak RSS above start | {Cell(w, 3, 1e9, "GB", "F2")} | {Cell(k, 3, 1e9, "GB", "F2")} | **{Med(w, x => x[3]) / Med(k, x => x[3]):F2}x** less{(who == "student" ? " (goal ≥ 3x)" : "")} |");
        }
        return new BenchmarkSection("Bounded logits memory (128k vocabulary)", md.ToString());
    }

    /// <summary>The child side: one variant; prints "seconds peak_rss start_rss peak_above_start".</summary>
    public static int RunChild(string[] args)
    {
        var (variant, batch, length) = (args[1], int.Parse(args[2]), int.Parse(args[3]));
        using var model = new CausalLM(Config());
        model.InitializeWeights(new Generator(1));
        var chunked = variant.EndsWith("chunked");
        double seconds;
        long start;
        if (variant.StartsWith("teacher"))
        {
            var rng = new Random(2);
            var sequences = Enumerable.Range(0, TeacherBatch).Select(_ => Enumerable.Range(0, TeacherLength).Select(_ => rng.Next(Vocab)).ToArray()).ToList();
            start = BenchmarkChild.RssBytes();
            var clock = Stopwatch.StartNew();
            TeacherRecords.Compute(model, sequences, 64, chunked ? Chunk : int.MaxValue);
            seconds = clock.Elapsed.TotalSeconds;
        }
        else
        {
            using var optimizer = optim.AdamW(model.parameters(), 1e-4);
            start = BenchmarkChild.RssBytes();
            var loss = new LossSettings { Kind = LossKind.ForwardKl, HardLabelWeight = 0.5 };
            Step(model, optimizer, batch, length, loss, chunked, 0);                         // warm-up: AdamW's state comes into being
            var timed = Stopwatch.StartNew();
            for (var step = 1; step <= TimedSteps; step++) Step(model, optimizer, batch, length, loss, chunked, step);
            seconds = timed.Elapsed.TotalSeconds / TimedSteps;
        }
        var peak = BenchmarkChild.PeakRssBytes();
        BenchmarkChild.Report(seconds, peak, start, peak - start);
        return 0;
    }

    private static void Step(CausalLM model, TorchSharp.Modules.AdamW optimizer, int batch, int length, LossSettings loss, bool chunked, int seed)
    {
        using var scope = NewDisposeScope();
        var g = new Generator((ulong)seed + 1);
        optimizer.zero_grad();
        var ids = randint(0, Vocab, [batch, length], generator: g);
        var targets = randint(0, Vocab, [batch * length], generator: g);
        var positions = Enumerable.Range(0, batch * length / 2).Select(i => 2L * i).ToArray();
        var target = Target(positions.Length, g);
        if (chunked)
            ChunkedLoss.Backward(model, model.Hidden(ids), targets, positions, target, loss, Chunk, 1);
        else
        {
            var flat = model.forward(ids).view(-1, Vocab);
            var ce = nn.functional.cross_entropy(flat, targets);
            var kd = DistillationLoss.Divergence(flat.index_select(0, tensor(positions)), target, loss);
            DistillationLoss.Combine(ce, kd, loss.HardLabelWeight).backward();
        }
        optimizer.step();
    }

    /// <summary>A teacher distribution on 64 random tokens per position, the rest of the mass spread over the others.</summary>
    private static SupportDistribution Target(int n, Generator g)
    {
        const int m = 64;
        var ids = randint(0, Vocab, [n, m], generator: g);
        var values = nn.functional.softmax(randn([n, m], generator: g), -1) * 0.9;
        return new SupportDistribution(new Support(ids, ones(n, m, dtype: ScalarType.Bool), full(n, Vocab - m, dtype: float32), Vocab),
            values, full(n, 0.1 / (Vocab - m), dtype: float32));
    }
}
