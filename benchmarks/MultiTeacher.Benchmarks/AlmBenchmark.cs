using MultiTeacher.Teachers;
using System.Diagnostics;
using System.Text;
using MultiTeacher.Alignment;
using MultiTeacher.Assets;
using MultiTeacher.Cache;
using MultiTeacher.Corpora;
using MultiTeacher.Models;
using MultiTeacher.Tokenization;
using MultiTeacher.Training;
using static TorchSharp.torch;

namespace MultiTeacher.Benchmarks;

/// <summary>
/// One training step of a Mistral-vocabulary student with approximate likelihood matching against
/// three cached teachers of other vocabularies (chunking, plans, loss, backward, optimiser) against
/// a plain cross-entropy step on the same batches in the same run, and the ALM cache's size per
/// teacher, with where each step's time goes. The teachers' weights are random: step time and record
/// size do not depend on them.
/// </summary>
public static class AlmBenchmark
{
    private static readonly (string Type, string Tokenizer, int Vocab)[] Teachers =
        [("llama", "llama3", 128256), ("mistral", "mistral-7b-v0.1", 32000), ("qwen3", "qwen3", 151936)];

    private const int Batch = 8, Seq = 64, Steps = 6, Rounds = 3;

    private enum Kind { Plain, Alm, AlmBalanced }

    public static BenchmarkSection Run(AssetStore store)
    {
        var root = Directory.CreateTempSubdirectory("mt-bench-alm-").FullName;
        try { return Measure(store, root); }
        finally { Directory.Delete(root, recursive: true); }
    }

    private sealed record TeacherData(HfTokenizer Tokenizer, AlmCache Cache, TokenEncoding[] Encodings);

    private static BenchmarkSection Measure(AssetStore store, string root)
    {
        var texts = BrownCorpus.Read(store.Require("corpora/brown"), "j").Take(4)
            .SelectMany(d => DistillationBenchmark.Chunks(d.Text, 400)).Take(Batch * Steps).ToList();
        var studentTok = HfTokenizer.FromDirectory(store.Require("tokenizers/mistral-7b-v0.1"));
        var student = texts.Select(t => Truncate(studentTok.Encode(t), Seq)).ToArray();
        var teachers = new List<TeacherData>();
        var cacheRows = new StringBuilder();
        foreach (var (type, tokenizer, vocab) in Teachers)
        {
            var tok = HfTokenizer.FromDirectory(store.Require($"tokenizers/{tokenizer}"));
            using var model = new CausalLM(DistillationBenchmark.Config(type, vocab, hidden: 128, layers: 2));
            model.InitializeWeights(new Generator((ulong)vocab));
            model.eval();
            var path = Path.Combine(root, tokenizer + ".mtalm");
            var cache = AlmCaches.Build(model, tok, texts, AlmCache.KeyFor(type, tok.ContentHash, texts), path);
            teachers.Add(new TeacherData(tok, cache, texts.Select(t => tok.Encode(t)).ToArray()));
            cacheRows.AppendLine($"| {tokenizer} ({vocab:N0}) | {cache.Positions:N0} | **{cache.SizeBytes / (double)cache.Positions:F2}** |");
        }

        using var mask = tensor(BoundaryMask.For(studentTok, 32000));
        var steps = new Dictionary<Kind, List<StepTimes>> { [Kind.Plain] = [], [Kind.Alm] = [], [Kind.AlmBalanced] = [] };
        var coverage = new List<double>();
        for (var round = 0; round < Rounds; round++)
            foreach (var kind in steps.Keys)
                steps[kind].AddRange(StepSeconds(kind, student, studentTok, teachers, mask, coverage));
        var times = steps.ToDictionary(kv => kv.Key, kv => kv.Value.Select(t => t.Total).ToList());

        var plain = BenchmarkReport.Median(times[Kind.Plain]);
        var md = new StringBuilder();
        md.AppendLine($"Student: Mistral vocabulary, 4 layers, hidden 256, random weights; batch {Batch} x {Seq} tokens of Brown press texts; three teachers (Llama 3, Mistral, Qwen3 vocabularies) " +
                      $"read from ALM caches; loss 0.5 CE + 0.5 mean of the three ALM terms (tau 5, gamma 0.1, debiased). Median of {Rounds} x {Steps - 1} steps per kind " +
                      "(the first of each run left out), the kinds alternating; spread = min-max over those steps.");
        md.AppendLine();
        md.AppendLine("| step | median | spread | ratio to plain CE |");
        md.AppendLine("|---|---|---|---|");
        foreach (var (kind, label) in new[] { (Kind.Plain, "plain cross-entropy (baseline)"), (Kind.Alm, "CE + ALM, 3 cached teachers (chunking, plans, loss)"), (Kind.AlmBalanced, "the same with gradient-magnitude balancing on the last layer") })
        {
            var m = BenchmarkReport.Median(times[kind]);
            md.AppendLine($"| {label} | {m * 1e3:F0} ms | {times[kind].Min() * 1e3:F0}-{times[kind].Max() * 1e3:F0} ms | {(kind == Kind.Plain ? "1.00x" : $"**{m / plain:F2}x**")} |");
        }
        md.AppendLine();
        md.AppendLine("Where a step's time goes (median per phase over the same steps, ms): forward = student forward, log-softmax and CE; " +
                      "plans = chunking the three teachers against the student windows and reading their cache records; " +
                      "ALM loss = the student's side of the chunks (read once per batch) and the three terms; backward = backward pass and AdamW step.");
        md.AppendLine();
        md.AppendLine("| step | forward | plans | ALM loss | backward |");
        md.AppendLine("|---|---|---|---|---|");
        foreach (var (kind, label) in new[] { (Kind.Plain, "plain cross-entropy"), (Kind.Alm, "CE + ALM"), (Kind.AlmBalanced, "CE + ALM, balanced") })
        {
            double Phase(Func<StepTimes, double> f) => BenchmarkReport.Median(steps[kind].Select(f)) * 1e3;
            md.AppendLine($"| {label} | {Phase(t => t.Forward):F0} | {Phase(t => t.Plans):F0} | {Phase(t => t.Loss):F0} | {Phase(t => t.Backward):F0} |");
        }
        md.AppendLine();
        double Extra(Func<StepTimes, double> f) => (BenchmarkReport.Median(steps[Kind.Alm].Select(f)) - BenchmarkReport.Median(steps[Kind.Plain].Select(f))) * 1e3;
        var ratio = BenchmarkReport.Median(times[Kind.Alm]) / plain;
        md.AppendLine($"Goal: the CE + ALM step at most 1.15x the plain CE step: **{(ratio <= 1.15 ? "met" : "not met")}** ({ratio:F2}x). " +
                      $"Against plain CE, by phase medians: plans +{Extra(t => t.Plans):F0} ms, ALM loss +{Extra(t => t.Loss):F0} ms, " +
                      $"backward {Extra(t => t.Backward):+0;-0} ms, forward {Extra(t => t.Forward):+0;-0} ms.");
        md.AppendLine();
        md.AppendLine($"Byte coverage of the student windows by scored chunks, mean over teachers and sequences: {coverage.Average():P1} (the rest: a window's first chunk where a side has no BOS, and its tail after the last common boundary).");
        md.AppendLine();
        md.AppendLine("### ALM teacher cache (observed-token log-prob and boundary log-mass, 2 bytes each, plus the file's header, index and checksum)");
        md.AppendLine();
        md.AppendLine("| teacher (vocabulary) | positions | bytes/token |");
        md.AppendLine("|---|---|---|");
        md.Append(cacheRows);
        return new BenchmarkSection("ALM distillation step and ALM cache", md.ToString());
    }

    /// <summary>One step's seconds, in all and by phase.</summary>
    private sealed record StepTimes(double Total, double Forward, double Plans, double Loss, double Backward);

    private static IEnumerable<StepTimes> StepSeconds(Kind kind, TokenEncoding[] student, HfTokenizer studentTok, List<TeacherData> teachers, Tensor mask, List<double> coverage)
    {
        using var model = new CausalLM(DistillationBenchmark.Config("mistral", 32000, hidden: 256, layers: 4));
        model.InitializeWeights(new Generator(2));
        var optimizer = optim.AdamW(model.parameters(), 1e-3);
        var lastLayer = model.named_parameters().Where(p => p.name.Contains($"layers.{model.Config.NumHiddenLayers - 1}.")).Select(p => (Tensor)p.parameter).ToList();
        var settings = new AlmSettings(Temperature: 5, Gamma: 0.1);
        var result = new List<StepTimes>();
        for (var step = 0; step < Steps; step++)
        {
            var watch = Stopwatch.StartNew();
            using var scope = NewDisposeScope();
            var rows = Enumerable.Range(step * Batch, Batch).ToArray();
            var ids = tensor(rows.SelectMany(r => student[r].Ids.Select(i => (long)i)).ToArray(), [Batch, Seq]);
            optimizer.zero_grad();
            var logQ = nn.functional.log_softmax(model.forward(ids), -1).view(Batch * Seq, -1);                   // (B·T, V)
            var ce = -logQ.view(Batch, Seq, -1)[.., ..(Seq - 1)].gather(2, ids[.., 1..].unsqueeze(2)).mean();
            var loss = ce;
            var (forward, plans, almLoss) = (watch.Elapsed.TotalSeconds, 0.0, 0.0);
            if (kind != Kind.Plain)
            {
                var teacherPlans = new List<AlmChunkPlan>();
                foreach (var teacher in teachers)
                {
                    var plan = new AlmChunkPlan(settings);
                    for (var b = 0; b < Batch; b++)
                        plan.Add(ChunkAligner.Align(student[rows[b]], studentTok, teacher.Encodings[rows[b]], teacher.Tokenizer), student[rows[b]].Ids, teacher.Cache.Read(rows[b]), b * Seq);
                    if (kind == Kind.Alm && step == 0) coverage.Add(plan.Coverage);
                    teacherPlans.Add(plan);
                }
                plans = watch.Elapsed.TotalSeconds - forward;
                var side = AlmStudentSide.For(logQ, teacherPlans, mask);
                var alm = teacherPlans.Select(p => AlmLoss.PerChunk(side, p).mean()).Aggregate((a, b) => a + b).to(ScalarType.Float32) / teacherPlans.Count;
                loss = kind == Kind.Alm ? 0.5 * ce + 0.5 * alm : GradientBalance.Combine([ce, alm], lastLayer, out _);
                almLoss = watch.Elapsed.TotalSeconds - forward - plans;
            }
            var beforeBackward = watch.Elapsed.TotalSeconds;
            loss.backward();
            optimizer.step();
            if (step > 0) result.Add(new StepTimes(watch.Elapsed.TotalSeconds, forward, plans, almLoss, watch.Elapsed.TotalSeconds - beforeBackward));
        }
        return result;
    }

    private static TokenEncoding Truncate(TokenEncoding e, int n) =>
        e.Count < n ? throw new InvalidOperationException($"a piece has {e.Count} tokens, fewer than {n}") : new TokenEncoding(e.Ids[..n], e.Offsets[..n], e.ByteOffsets[..n]);
}
