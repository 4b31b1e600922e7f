using System.Diagnostics;
using System.Text;
using MultiTeacher.Alignment;
using MultiTeacher.Assets;
using MultiTeacher.Tokenization;

namespace MultiTeacher.Benchmarks;

/// <summary>
/// Projection build time for every ordered pair of the three real tokenizers, alignment overhead
/// on top of tokenizing both sides, and top-k projection throughput against a plain memory copy.
/// </summary>
public static class AlignmentBenchmark
{
    private static readonly IReadOnlyList<string> Families = AssetManifest.TokenizerFamilies();

    public static BenchmarkSection Run(AssetStore store)
    {
        var md = new StringBuilder();
        var watch = Stopwatch.StartNew();
        var tokenizers = Families.ToDictionary(f => f, f => HfTokenizer.FromDirectory(store.Require($"tokenizers/{f}")));
        var loadSeconds = watch.Elapsed.TotalSeconds / Families.Count;
        var pairs = (from t in Families from s in Families where t != s select (Teacher: t, Student: s)).ToList();

        md.AppendLine($"### Projection build time (baseline: loading one tokenizer, {loadSeconds:F2} s)");
        md.AppendLine();
        md.AppendLine("| teacher → student | exact | first_token | min_edit | exact tokens |");
        md.AppendLine("|---|---|---|---|---|");
        foreach (var (t, s) in pairs)
        {
            var cells = new List<string>();
            var exactTokens = 0;
            foreach (var method in new[] { ProjectionMethod.Exact, ProjectionMethod.FirstToken, ProjectionMethod.MinEdit })
            {
                watch.Restart();
                var p = VocabularyProjection.Build(tokenizers[t], tokenizers[s], method);
                var seconds = watch.Elapsed.TotalSeconds;
                exactTokens = p.ExactCount;
                cells.Add($"{seconds:F2} s ({seconds / loadSeconds:F1}x)");
                Console.Error.WriteLine($"projection {t} -> {s} {method}: {seconds:F2} s");
            }
            md.AppendLine($"| {t} → {s} | {string.Join(" | ", cells)} | {exactTokens:N0} of {tokenizers[t].VocabSize:N0} |");
        }

        var lines = TokenizeBenchmark.LoadLines(store.Require("corpora/nlp-corpus")).Take(20_000).ToArray();
        var megabytes = lines.Sum(l => (long)Encoding.UTF8.GetByteCount(l)) / 1e6;
        md.AppendLine();
        md.AppendLine($"### Alignment throughput ({lines.Length:N0} nlp-corpus lines, {megabytes:F1} MB, one thread)");
        md.AppendLine();
        md.AppendLine("Baseline: tokenizing both sides with offsets (what alignment needs) on the same lines. Goal: alignment adds under 25%.");
        md.AppendLine();
        md.AppendLine("Exact-match mass: the share of the teacher's actual next tokens whose projection has exactly their bytes (the same for every method).");
        md.AppendLine();
        md.AppendLine("| student ← teacher | tokenize both | align | student positions/s | alignment cost | coverage | exact-match mass |");
        md.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var (t, s) in pairs)
        {
            var (student, teacher) = (tokenizers[s], tokenizers[t]);
            foreach (var line in lines.Take(2000)) SequenceAligner.Align(student.Encode(line), student, teacher.Encode(line), teacher);
            watch.Restart();
            var encoded = lines.Select(l => (S: student.Encode(l), T: teacher.Encode(l))).ToArray();
            var tokenizeSeconds = watch.Elapsed.TotalSeconds;
            watch.Restart();
            long positions = 0, aligned = 0;
            foreach (var (se, te) in encoded)
            {
                var a = SequenceAligner.Align(se, student, te, teacher);
                positions += a.Positions;
                aligned += a.Aligned;
            }
            var alignSeconds = watch.Elapsed.TotalSeconds;
            var exact = VocabularyProjection.Build(teacher, student, ProjectionMethod.Exact).IsExact;
            var teacherTokens = encoded.Sum(e => (long)e.T.Count - 1);
            var exactTokens = encoded.Sum(e => (long)e.T.Ids.Skip(1).Count(id => exact[id]));
            md.AppendLine($"| {s} ← {t} | {tokenizeSeconds:F2} s | {alignSeconds:F3} s | {positions / alignSeconds / 1e6:F1} M | " +
                          $"**+{100 * alignSeconds / tokenizeSeconds:F1}%** | {100.0 * aligned / positions:F2}% | {100.0 * exactTokens / teacherTokens:F2}% |");
        }

        md.AppendLine();
        md.AppendLine(TopKThroughput(tokenizers["qwen3"], tokenizers["llama3"]));
        return new BenchmarkSection("Vocabulary alignment", md.ToString());
    }

    private static string TopKThroughput(HfTokenizer teacher, HfTokenizer student)
    {
        const int rows = 200_000, k = 64, repeats = 5;
        var projection = VocabularyProjection.Build(teacher, student, ProjectionMethod.FirstToken);
        var rng = new Random(1);
        var input = TopKRows.Create(rows, k);
        for (var i = 0; i < rows * k; i++) { input.Ids[i] = rng.Next(teacher.VocabSize); input.LogProbs[i] = -(float)rng.NextDouble() * 8; }
        var bytes = rows * k * 8L + rows * 4L;

        // Baseline: copying the same input bytes into fresh output arrays, as the projection must write them.
        double copy = double.MaxValue, project = double.MaxValue;
        for (var r = 0; r < repeats; r++)
        {
            // Each timed operation starts from a collected heap, so neither pays for the other's garbage.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            var watch = Stopwatch.StartNew();
            var ids = new int[rows * k];
            var probs = new float[rows * k];
            var tail = new float[rows];
            input.Ids.AsSpan().CopyTo(ids);
            input.LogProbs.AsSpan().CopyTo(probs);
            input.TailMass.AsSpan().CopyTo(tail);
            copy = Math.Min(copy, watch.Elapsed.TotalSeconds);
            GC.Collect();
            GC.WaitForPendingFinalizers();
            watch.Restart();
            TopKProjector.Project(input, projection, TailTreatment.Bucket);
            project = Math.Min(project, watch.Elapsed.TotalSeconds);
        }
        return $"### Top-k projection throughput (k = {k}, {rows:N0} rows, qwen3 → llama3, best of {repeats})\n\n" +
               "| operation | time | rows/s | effective GB/s | ratio to copy |\n|---|---|---|---|---|\n" +
               $"| memory copy of the same bytes into new arrays (baseline) | {copy * 1e3:F1} ms | {rows / copy / 1e6:F1} M | {bytes / copy / 1e9:F2} | 1.0x |\n" +
               $"| project (gather + exp + tail bookkeeping) | {project * 1e3:F1} ms | {rows / project / 1e6:F1} M | {bytes / project / 1e9:F2} | **{project / copy:F2}x** |\n";
    }
}
