using System.Text.Json;
using MultiTeacher.Lineage;
using MultiTeacher.Recipes;
using MultiTeacher.Training;
using MultiTeacher.Runs;

namespace MultiTeacher.Audit;

/// <summary>What an audit replays and how strictly it judges.</summary>
/// <param name="Steps">Replay only the first N steps (null: all, then compare the student's hash too).</param>
/// <param name="Threads">CPU threads for the replay (null: the thread count the run recorded).</param>
/// <param name="Tolerance">Largest relative loss difference still judged within tolerance.</param>
public sealed record AuditOptions(int? Steps = null, int? Threads = null, double Tolerance = 1e-4, string? Scratch = null, string? CacheRoot = null);

/// <summary>
/// Audits a recorded run: re-hashes every input and output, replays the resolved recipe with the
/// recorded seed in a scratch directory, compares every recorded metric step by step (and, for a
/// full replay, the student's hash), lists environment differences, and stores the report.
/// Teacher caches and projections are derived inputs: a missing one is rebuilt by the replay.
/// </summary>
public static class RunAuditor
{
    private static readonly string[] Derived = ["cache", "projection"];
    private static readonly string[] Timing = [MetricNames.TokensPerSecond];

    public static AuditReport Audit(LineageStore store, long runId, AuditOptions options, TextWriter log)
    {
        var run = store.Run(runId) ?? throw new ArgumentException($"run {runId} does not exist");
        if (run.Status != RunStatus.Succeeded) throw new ArgumentException($"run {runId} is {Spelling.Of(run.Status)}; only finished runs can be audited");
        var resolved = store.ResolvedRecipe(runId)!;
        if (StageReplay.IsPipeline(resolved))
            throw new ArgumentException($"run {runId} is a pipeline: audit the run of each stage ({string.Join(", ", store.PipelineStages(runId).Select(s => $"{s.Name}: run {s.StageRun}"))})");
        var integrity = Integrity(store, runId);
        var recordedEnv = store.Environment(runId);
        var replay = (ReplayResult?)null;
        var tampered = integrity.Where(f => f.Problem == "altered" || f.Problem == "missing" && f.Direction == "produced").ToList();
        var missing = integrity.Where(f => f.Problem == "missing" && f.Direction == "used" && !Derived.Contains(f.Kind)).ToList();
        if (tampered.Count == 0 && missing.Count == 0 && StageReplay.IsStage(resolved))
            replay = StageReplay.Replay(store, runId, resolved, options, log);
        else if (tampered.Count == 0 && missing.Count == 0)
        {
            var recipe = RecipeLoader.LoadResolved(resolved, out _);
            var threads = options.Threads ?? (recipe.Threads > 0 ? recipe.Threads : int.TryParse(recordedEnv.GetValueOrDefault("cpu_threads"), out var t) ? t : 0);
            replay = Replay(store, runId, recipe with { Threads = threads }, options, log);
        }
        var current = RunEnvironment.Current(recordedEnv.GetValueOrDefault("device", "auto"), recordedEnv.GetValueOrDefault("deterministic") == "true");
        if (replay is not null) current["cpu_threads"] = replay.Threads.ToString();
        var environment = recordedEnv.Keys.Union(current.Keys).Order(StringComparer.Ordinal)
            .Select(k => new EnvironmentDifference(k, recordedEnv.GetValueOrDefault(k, "-"), current.GetValueOrDefault(k, "-")))
            .Where(d => d.Recorded != d.Current).ToList();
        var (verdict, reason) = AuditJudge.Judge(tampered, missing, replay, options.Tolerance);
        var report = new AuditReport(runId, verdict, reason, options.Tolerance, integrity, replay, environment, DateTime.UtcNow);
        store.RecordAudit(runId, verdict, JsonSerializer.Serialize(report));
        return report;
    }

    private static List<IntegrityFinding> Integrity(LineageStore store, long runId)
    {
        var findings = new List<IntegrityFinding>();
        foreach (var a in store.Artifacts(runId))
        {
            var exists = File.Exists(a.Path) || Directory.Exists(a.Path);
            if (!exists) { findings.Add(new IntegrityFinding(a.Direction, a.Role, a.Kind, a.Path, "missing", [])); continue; }
            if (File.Exists(a.Path))
            {
                findings.Add(new IntegrityFinding(a.Direction, a.Role, a.Kind, a.Path, ContentHash.OfFile(a.Path) == a.Sha256 ? "ok" : "altered", []));
                continue;
            }
            var now = ContentHash.Manifest(a.Path);
            if (ContentHash.OfManifest(now) == a.Sha256) { findings.Add(new IntegrityFinding(a.Direction, a.Role, a.Kind, a.Path, "ok", [])); continue; }
            var recorded = store.ArtifactFiles(a.Kind, a.Sha256, a.Path) ?? new Dictionary<string, string>();
            var files = recorded.Where(kv => !now.TryGetValue(kv.Key, out var h) || h != kv.Value)
                .Select(kv => now.ContainsKey(kv.Key) ? $"{kv.Key} (altered)" : $"{kv.Key} (removed)")
                .Concat(now.Keys.Where(k => !recorded.ContainsKey(k)).Select(k => $"{k} (added)")).ToList();
            findings.Add(new IntegrityFinding(a.Direction, a.Role, a.Kind, a.Path, "altered", files));
        }
        return findings;
    }

    private static ReplayResult Replay(LineageStore store, long runId, Recipe recipe, AuditOptions options, TextWriter log)
    {
        var scratch = options.Scratch ?? Path.Combine(Path.GetTempPath(), $"mt-audit-{runId}-{Guid.NewGuid().ToString("N")[..8]}");
        var recorded = store.Metrics(runId);
        var stepsRecorded = recorded.Keys.Where(k => k.Name == MetricNames.Loss).Select(k => k.Step).DefaultIfEmpty(0).Max();
        var limit = Math.Min(options.Steps ?? recipe.Train.Steps, recipe.Train.Steps);
        var full = limit == recipe.Train.Steps;
        var replayed = new List<StepMetrics>();
        var notes = new List<string>();
        string? studentReplayed = null;
        log.WriteLine($"replaying run {runId}: {limit} of {recipe.Train.Steps} steps, {recipe.Threads} thread(s), in {scratch}");
        using (var stop = new CancellationTokenSource())
        using (var training = new DistillationRecipe(recipe with { Output = Path.Combine(scratch, "output") }, log, options.CacheRoot))
        {
            training.Setup();
            try
            {
                var result = training.Train(m => { replayed.Add(m); if (m.Step >= limit && !full) stop.Cancel(); }, cancel: stop.Token);
                studentReplayed = ContentHash.Of(result.StudentDirectory);
            }
            catch (TrainingCancelledException) when (!full) { }
        }
        var studentRecorded = store.Artifacts(runId).FirstOrDefault(a => a.Direction == "produced" && a.Role == "student")?.Sha256;
        Divergence? first = null;
        var compared = 0;
        foreach (var m in replayed)
            foreach (var (step, name, value) in m.Rows().Where(r => !Timing.Contains(r.Name)))
            {
                if (!recorded.TryGetValue((step, name), out var was)) { notes.Add($"step {step} {name} was not recorded"); continue; }
                compared++;
                if (first is null && BitConverter.DoubleToInt64Bits(was) != BitConverter.DoubleToInt64Bits(value)) first = new Divergence(step, name, was, value);
            }
        var stats = AuditJudge.LossDifferences(replayed.Where(m => recorded.ContainsKey((m.Step, MetricNames.Loss)))
            .Select(m => (recorded[(m.Step, MetricNames.Loss)], m.Loss)).ToList());
        if (options.Scratch is null) TryDelete(scratch);
        return new ReplayResult(replayed.Count, stepsRecorded, full, compared, first, stats, full ? studentRecorded : null, full ? studentReplayed : null, recipe.Threads, notes.Distinct().Take(20).ToList());
    }

    private static void TryDelete(string directory)
    {
        try { Directory.Delete(directory, recursive: true); }
        catch (IOException) { }
    }
}
