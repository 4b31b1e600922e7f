using System.Globalization;
using System.Text;
using System.Text.Json;
using MultiTeacher.Runs;
using MultiTeacher.Corpora;
using MultiTeacher.Evaluation;
using MultiTeacher.Lineage;
using MultiTeacher.Reporting;

namespace MultiTeacher.Experiments;

/// <summary>
/// The experiment's figures: per model and genre the mean held-out bits per byte over documents
/// with its 95% interval, paired comparisons on the same documents, the claims with their
/// verdicts, and two SVG plots. Every claim is fixed in advance (the fused student is the
/// confidence policy with first_token projection over top-64 caches; where the folder has its
/// top-1024 twin, two claims test that too); the best single teacher is picked on the held-out
/// text itself, which favours the opponent. Where the folder has the transplant-route pipeline,
/// its models' gains over their control are set against the students taught without a transplant.
/// </summary>
public sealed class ExperimentReport(IReadOnlyList<ExperimentRun> runs, IReadOnlyList<(string Genre, IReadOnlyList<BrownDocument> Documents)> heldOut,
    IReadOnlyDictionary<string, Dictionary<string, double[]>> scores, TimeSpan elapsed, IReadOnlyList<ExperimentPipeline>? pipelines = null)
{
    private const string Baseline = "hard-label", Fused = "fused-confidence", Uniform = "fused-uniform", FusedWide = "fused-confidence-k1024";
    private const string Route = "transplant-route", RouteControl = Route + ".control";

    /// <summary>The transplant route's models, each with what it learned from and a student that learned from the same teachers without a transplant.</summary>
    private static readonly (string Stage, string Teachers, string Direct)[] RouteModels =
    [
        ("back_to_mistral", "press-llama3, in Llama 3's vocabulary and transplanted back", "single-press-k1024"),
        ("back_to_mistral", "press-llama3, in Llama 3's vocabulary and transplanted back", "single-press-alm"),
        ("distill_mistral", "learned-mistral, the student's own vocabulary", "single-learned-k1024"),
        ("finetuned", "both, merged with TIES, 10 hard-label steps", "fused-confidence-k1024"),
    ];
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private IEnumerable<string> Genres => heldOut.Select(g => g.Genre);

    /// <summary>Every held-out document of every genre, in one order shared by all models (the mixed-genre set).</summary>
    private double[] All(string model) => Genres.SelectMany(g => scores[model][g]).ToArray();

    private double[] Scores(string model, string? genre) => genre is null ? All(model) : scores[model][genre];

    private string BestSingle => runs.Select(r => r.Name).Where(n => n.StartsWith("single-", StringComparison.Ordinal)).MinBy(n => All(n).Average())!;

    // The demo's teachers are named after the genre they learned: "(teacher-press)".
    private IEnumerable<(string Teacher, string Genre)> TeacherGenres() =>
        scores.Keys.SelectMany(k => Genres.Where(g => k == $"(teacher-{g})").Select(g => (k, g)));

    public static IReadOnlyList<(int Step, double Loss)> LossCurve(string metricsFile) =>
        File.ReadLines(metricsFile).Where(l => l.Length > 0).Select(l =>
        {
            using var json = JsonDocument.Parse(l);
            return (json.RootElement.GetProperty(MetricNames.Step).GetInt32(), json.RootElement.GetProperty(MetricNames.Loss).GetDouble());
        }).ToList();

    /// <summary>The claims, each with its paired difference on the documents that decide it (negative: the first model is better).</summary>
    public IEnumerable<(string Claim, string A, string B, string? Genre, PairedDifference Difference)> Claims()
    {
        yield return ("the fused student beats the hard-label baseline overall", Fused, Baseline, null, Confidence.Paired(All(Fused), All(Baseline)));
        yield return ($"the fused student beats the best single-teacher student ({BestSingle}) overall", Fused, BestSingle, null, Confidence.Paired(All(Fused), All(BestSingle)));
        yield return ("confidence mixing beats uniform mixing on the mixed-genre set", Fused, Uniform, null, Confidence.Paired(All(Fused), All(Uniform)));
        if (!scores.ContainsKey(FusedWide)) yield break;
        yield return ("the fused student with each teacher's top-1024 beats the same with top-64 overall", FusedWide, Fused, null, Confidence.Paired(All(FusedWide), All(Fused)));
        yield return ($"the fused student with each teacher's top-1024 beats the best single-teacher student ({BestSingle}) overall", FusedWide, BestSingle, null, Confidence.Paired(All(FusedWide), All(BestSingle)));
    }

    /// <summary>
    /// Each route model's gain over the control (same start, same extra steps, hard labels only), the
    /// gain of the student taught without a transplant (token projection or likelihood matching) over
    /// the hard-label baseline, and the difference of the two gains (negative: the route transfers
    /// more), each paired on the same documents.
    /// </summary>
    public IEnumerable<(string Model, string Teachers, string Direct, PairedDifference Route, PairedDifference DirectGain, PairedDifference Versus)> RouteGains()
    {
        if (!scores.ContainsKey(RouteControl)) yield break;
        var control = All(RouteControl);
        var baseline = All(Baseline);
        foreach (var (stage, teachers, direct) in RouteModels.Where(m => scores.ContainsKey($"{Route}.{m.Stage}") && scores.ContainsKey(m.Direct)))
        {
            var model = All($"{Route}.{stage}");
            var taught = All(direct);
            var routeGain = model.Zip(control, (m, c) => m - c).ToArray();
            var directGain = taught.Zip(baseline, (t, h) => t - h).ToArray();
            yield return ($"{Route}.{stage}", teachers, direct, Confidence.Paired(model, control), Confidence.Paired(taught, baseline), Confidence.Paired(routeGain, directGain));
        }
    }

    public IEnumerable<string> Verdicts() => Claims().Select(c =>
        $"{(c.Difference.High < 0 ? "MET" : "NOT MET")}: {c.Claim}: {Describe(c.Difference)}");

    private static string Describe(PairedDifference d) => string.Create(Inv,
        $"Δ {d.Mean:+0.0000;-0.0000} bits/byte [{d.Low:+0.0000;-0.0000}, {d.High:+0.0000;-0.0000}], p = {d.PValue:0.0000}, lower on {d.Lower} of {d.Count} documents");

    private static string Machine()
    {
        var env = RunEnvironment.Current("cpu", deterministic: false);
        return $"{env["cpu"]}, commit {env["git_commit"][..Math.Min(12, env["git_commit"].Length)]}";
    }

    private static string RunCell(long? id, bool reused) => (id is { } i ? i.ToString(Inv) : "unknown") + (reused ? " (reused)" : "");

    private static string Cell(Interval i) => string.Create(Inv, $"{i.Mean:F4} [{i.Low:F4}, {i.High:F4}]");

    public TextTable ConsoleTable() => new("Held-out bits per byte, mean over documents [95% interval]", ["model", .. Genres, "all"],
        scores.Keys.Select(model => (IReadOnlyList<string>)[model, .. Genres.Select(g => Cell(Confidence.Mean(scores[model][g]))), Cell(Confidence.Mean(All(model)))]).ToList());

    public void Write(string path)
    {
        var plots = Path.Combine(Path.GetDirectoryName(path)!, Path.GetFileNameWithoutExtension(path));
        Directory.CreateDirectory(plots);
        File.WriteAllText(Path.Combine(plots, "bits-per-byte.svg"), BitsPerBytePlot());
        File.WriteAllText(Path.Combine(plots, "training-loss.svg"), LossPlot());
        // Every bits-per-byte figure of the report derives from these, so any other comparison can be made from the file.
        File.WriteAllText(Path.Combine(plots, "scores.json"), JsonSerializer.Serialize(new
        {
            documents = heldOut.ToDictionary(g => g.Genre, g => g.Documents.Select(d => d.Id)),
            bits_per_byte = scores,
        }, new JsonSerializerOptions { WriteIndented = true }));
        File.WriteAllText(path, Markdown(Path.GetFileName(plots)));
    }

    private string BitsPerBytePlot()
    {
        var baseline = Genres.Select(g => (string?)g).Append(null).ToDictionary(g => g ?? "all", g => Scores(Baseline, g).Average());
        IntervalRow Row(string model, string? genre)
        {
            var i = Confidence.Mean(Scores(model, genre));
            return new IntervalRow(model, i.Mean, i.Low, i.High);
        }
        var panels = Genres.Select(g => (string?)g).Append(null)
            .Select(g => new IntervalPanel(g ?? "all genres", scores.Keys.Select(m => Row(m, g)).ToList(), baseline[g ?? "all"])).ToList();
        return IntervalChart.Render("Held-out bits per byte (mean over documents, 95% interval; dashed: hard-label baseline)", "bits per byte", panels);
    }

    private string LossPlot() => LineChart.Render("Training loss (hard-label runs: CE; distilled: 0.5 CE + 0.5 KL)", "step", "loss (nats)",
        runs.Select(r => new Series(r.Name, r.Loss.Select(p => ((double)p.Step, p.Loss)).ToList())).ToList());

    private string Markdown(string plots)
    {
        var md = new StringBuilder();
        void Line(FormattableString s = default!) => md.AppendLine(s is null ? "" : string.Format(Inv, s.Format, s.GetArguments()));
        Line($"# Experiment: is fusing three teachers worth it?");
        Line();
        var how = runs.Any(r => r.Reused) ? "`mt experiment --reuse` (students trained by an earlier run, rescored in " : "`mt experiment` (";
        Line($"Generated by {how}{elapsed.TotalMinutes:F0} min) on {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, {Machine()}.");
        Line($"Recipes: `recipes/experiments/`. Teachers: the demo's three, as `recipes/demo/teacher-*.yaml` trains them (Llama 3 tokenizer on Brown press, Mistral tokenizer on learned prose, Qwen3 tokenizer on fiction; each 2 layers, hidden 64).");
        Line($"Every student: Mistral tokenizer, 2 layers, hidden 64, 80 steps of 8 x 64 tokens on the three genres mixed, seed 21; distilled ones use forward KL at T = 1 with hard-label weight 0.5 and top-64 cached teachers (top-1024 where the name has -k1024) whose tail beyond the top-k is spread evenly over the other student tokens (-lump: lumped into one outcome, whose total the student's mass outside the kept tokens must match; -spread: spread over the teacher's other tokens and projected with them); -alm: approximate likelihood matching instead (τ 5, γ 0.1, debiased, hard-label weight 0.1).");
        Line($"Held out: the last {heldOut[0].Documents.Count} Brown documents of each genre ({heldOut.Sum(g => g.Documents.Count)} in all, none seen by any model in training), each scored whole in windows of 64 tokens.");
        Line($"Intervals: Student-t 95% over documents (MathNet.Numerics). Comparisons are paired on the same documents; p is the two-sided paired t-test. Every model's bits per byte per document: `{plots}/scores.json`.");
        Line();
        Line($"## Claims");
        Line();
        Line($"| claim | verdict | paired difference (bits/byte) |");
        Line($"|---|---|---|");
        foreach (var c in Claims()) Line($"| {c.Claim} | **{(c.Difference.High < 0 ? "met" : "not met")}** | {Describe(c.Difference)} |");
        Line();
        Line($"## Held-out bits per byte (lower is better)");
        Line();
        Line($"![bits per byte per genre and model]({plots}/bits-per-byte.svg)");
        Line();
        md.AppendLine("| model | " + string.Join(" | ", Genres) + " | all | Δ vs hard-label (all) |");
        md.AppendLine("|---|" + string.Concat(Genres.Select(_ => "---|")) + "---|---|");
        foreach (var model in scores.Keys)
        {
            var versus = model == Baseline ? "" : Describe(Confidence.Paired(All(model), All(Baseline)));
            md.AppendLine($"| {model} | " + string.Join(" | ", Genres.Select(g => Cell(Confidence.Mean(scores[model][g])))) + $" | {Cell(Confidence.Mean(All(model)))} | {versus} |");
        }
        Line();
        Line($"Rows in parentheses are the teachers themselves (other tokenizers, same bytes), for reference.");
        Line();
        Line($"## What the teachers know");
        Line();
        Line($"A distilled student can only gain where its teachers predict the text better than it would on its own. Each teacher against the hard-label student, paired on the documents of its own genre and of the other two:");
        Line();
        Line($"| teacher | own genre | Δ on its own genre | Δ on the other genres |");
        Line($"|---|---|---|---|");
        foreach (var (teacher, genre) in TeacherGenres())
        {
            var others = Genres.Where(g => g != genre).ToList();
            Line($"| {teacher} | {genre} | {Describe(Confidence.Paired(scores[teacher][genre], scores[Baseline][genre]))} | {Describe(Confidence.Paired(others.SelectMany(g => scores[teacher][g]).ToArray(), others.SelectMany(g => scores[Baseline][g]).ToArray()))} |");
        }
        Line();
        var gains = RouteGains().ToList();
        if (gains.Count > 0)
        {
            Line($"## The transplant route against token projection and likelihood matching");
            Line();
            Line($"`{Route}` (a pipeline, `recipes/experiments/{Route}.yaml`) starts from the hard-label student and takes the route SuperNova-Medius took: transplant to a teacher's vocabulary, distil with a shared vocabulary, transplant back, merge with a copy distilled from the same-vocabulary teacher, fine-tune. Its models have 40 steps more than the hard-label student (finetuned: 50), so each is compared with `{RouteControl}`, the hard-label student given the same 40 steps on hard labels alone; the students taught by the same teachers without a transplant (token projection, or ALM where the name ends in -alm) with the hard-label baseline. A gain is the model minus its control; the last column is the route's gain minus the other student's, paired per document (negative: the route transfers more).");
            Line();
            Line($"| route model | teachers | gain over control | student without transplant | gain over hard-label | route − that student |");
            Line($"|---|---|---|---|---|---|");
            foreach (var g in gains) Line($"| {g.Model} | {g.Teachers} | {Describe(g.Route)} | {g.Direct} | {Describe(g.DirectGain)} | {Describe(g.Versus)} |");
            Line();
        }
        Line($"## Training");
        Line();
        Line($"![training loss]({plots}/training-loss.svg)");
        Line();
        Line($"| run | lineage run | final training loss |");
        Line($"|---|---|---|");
        foreach (var r in runs) Line($"| {r.Name} | {RunCell(r.RunId, r.Reused)} | {r.Loss[^1].Loss:F3} |");
        foreach (var p in pipelines ?? []) Line($"| {p.Name} (pipeline: {string.Join(" → ", p.Pipeline.Order)}) | {RunCell(p.RunId, p.Reused)} | {(p.RunId is { } id ? $"per stage: `mt show {id}`" : "per stage")} |");
        return md.ToString();
    }
}
