using System.Text.Json.Nodes;
using MultiTeacher.Runs;

namespace MultiTeacher.Training;

/// <summary>
/// What one optimiser step measured; one JSON line of metrics.jsonl per step. TeacherWeight: each
/// teacher's weight, its mean over the step's positions or sequences; TeacherTerm: each teacher's own
/// distillation term (alm, uld); TeacherTextBitsPerByte: each teacher's bits per byte on the step's text (alm);
/// TeacherMerged: the share of each teacher's scored chunks that γ merged (alm); TeacherMarginalized:
/// the mean share of each teacher's target mass given to the longer readings of its last token (alignment.boundary: marginalized).
/// </summary>
public sealed record StepMetrics(
    int Step, double Loss, double HardLabelCe, double? Distillation, double LearningRate, double GradNorm, double TokensPerSecond,
    IReadOnlyDictionary<string, double> TeacherWeight, IReadOnlyDictionary<string, double> TeacherCoverage, double? EvalBitsPerByte = null,
    IReadOnlyDictionary<string, double>? TeacherTerm = null, IReadOnlyDictionary<string, double>? TeacherTextBitsPerByte = null,
    IReadOnlyDictionary<string, double>? TeacherMerged = null, IReadOnlyDictionary<string, double>? TeacherMarginalized = null)
{
    /// <summary>The step as (step, name, value) rows named by <see cref="MetricNames"/>, the form lineage stores and audits compare.</summary>
    public IEnumerable<(int Step, string Name, double Value)> Rows()
    {
        yield return (Step, MetricNames.Loss, Loss);
        yield return (Step, MetricNames.HardLabelCe, HardLabelCe);
        if (Distillation is { } kd) yield return (Step, MetricNames.Distillation, kd);
        yield return (Step, MetricNames.LearningRate, LearningRate);
        yield return (Step, MetricNames.GradNorm, GradNorm);
        yield return (Step, MetricNames.TokensPerSecond, TokensPerSecond);
        foreach (var (name, w) in TeacherWeight) yield return (Step, MetricNames.Weight(name), w);
        foreach (var (name, c) in TeacherCoverage) yield return (Step, MetricNames.Coverage(name), c);
        foreach (var (name, d) in TeacherTerm ?? new Dictionary<string, double>()) yield return (Step, MetricNames.Term(name), d);
        foreach (var (name, b) in TeacherTextBitsPerByte ?? new Dictionary<string, double>()) yield return (Step, MetricNames.TextBitsPerByte(name), b);
        foreach (var (name, m) in TeacherMerged ?? new Dictionary<string, double>()) yield return (Step, MetricNames.Merged(name), m);
        foreach (var (name, m) in TeacherMarginalized ?? new Dictionary<string, double>()) yield return (Step, MetricNames.Marginalized(name), m);
        if (EvalBitsPerByte is { } bpb) yield return (Step, MetricNames.EvalBitsPerByte, bpb);
    }

    /// <summary>The metrics.jsonl line: "step" and every row, keyed by the same names as the lineage rows.</summary>
    public string ToJsonLine()
    {
        var line = new JsonObject { [MetricNames.Step] = Step };
        foreach (var (_, name, value) in Rows()) line[name] = value;
        return line.ToJsonString();
    }
}

/// <summary>The loss became NaN or infinite: the run stops, naming the step and the batch; earlier checkpoints stay.</summary>
public sealed class TrainingDivergedException(int step, IReadOnlyList<int> samples, string? lastCheckpoint)
    : Exception($"loss is not finite at step {step} (batch samples {string.Join(", ", samples)}); " +
                (lastCheckpoint is null ? "no checkpoint was written before it" : $"last good checkpoint: {lastCheckpoint}"))
{
    public int Step { get; } = step;
    public IReadOnlyList<int> Samples { get; } = samples;
    public string? LastCheckpoint { get; } = lastCheckpoint;
}

/// <summary>Training stopped on request after <see cref="Step"/> completed steps; that step is checkpointed.</summary>
public sealed class TrainingCancelledException(int step) : OperationCanceledException($"training cancelled after step {step}")
{
    public int Step { get; } = step;
}
