using MultiTeacher.Lineage;
using MultiTeacher.Pipelines;
using MultiTeacher.Recipes;

namespace MultiTeacher.Audit;

/// <summary>
/// Replays the run of a transplant, merge or evaluate stage: the stage again from its recorded
/// settings and seed into a scratch directory, its output's hash and its metrics compared with the
/// record. (A distill or finetune stage's run is an ordinary distillation run and replays as one.)
/// </summary>
internal static class StageReplay
{
    /// <summary>True when a run's resolved YAML is a pipeline stage's, false for a distillation recipe's.</summary>
    public static bool IsStage(string resolvedYaml) => Line(resolvedYaml, 1).StartsWith(Pipeline.StageHeader, StringComparison.Ordinal);

    /// <summary>True when a run's resolved YAML is a whole pipeline's.</summary>
    public static bool IsPipeline(string resolvedYaml) => Line(resolvedYaml, 1) == Pipeline.Header;

    private static string Line(string text, int index) => text.Split('\n').Skip(index).FirstOrDefault()?.TrimEnd('\r') ?? "";

    public static ReplayResult Replay(LineageStore store, long runId, string resolvedYaml, AuditOptions options, TextWriter log)
    {
        var (stage, _) = PipelineLoader.LoadResolvedStage(resolvedYaml);
        var recorded = store.Artifacts(runId).First(a => a.Direction == "produced" && a.Role == StageRunner.OutputRole);
        var scratch = options.Scratch ?? Path.Combine(Path.GetTempPath(), $"mt-audit-{runId}-{Guid.NewGuid().ToString("N")[..8]}");
        var output = Path.Combine(scratch, Path.GetFileName(recorded.Path));
        log.WriteLine($"replaying run {runId}: stage {stage.Name} ({Settings.SettingNames.Of(stage.Kind)}) in {scratch}");
        try
        {
            var metrics = StageRunner.Execute(stage, output, store.Seed(runId), log);
            var recordedMetrics = store.Metrics(runId);
            var notes = new List<string>();
            Divergence? first = null;
            var compared = 0;
            foreach (var (name, value) in metrics.OrderBy(m => m.Key, StringComparer.Ordinal))
            {
                if (!recordedMetrics.TryGetValue((0, name), out var was)) { notes.Add($"{name} was not recorded"); continue; }
                compared++;
                if (first is null && BitConverter.DoubleToInt64Bits(was) != BitConverter.DoubleToInt64Bits(value)) first = new Divergence(0, name, was, value);
            }
            return new ReplayResult(0, 0, true, compared, first, AuditJudge.LossDifferences([]), recorded.Sha256, ContentHash.Of(output),
                TorchSharp.torch.get_num_threads(), notes);
        }
        finally
        {
            if (options.Scratch is null && Directory.Exists(scratch)) Directory.Delete(scratch, recursive: true);
        }
    }
}
