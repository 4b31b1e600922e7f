namespace MultiTeacher.Training;

/// <summary>What one optimiser step measured; one JSON line of metrics.jsonl per step. TeacherTerm: each teacher's own distillation term (alm, uld).</summary>
public sealed record StepMetrics(
    int Step, double Loss, double HardLabelCe, double? Distillation, double LearningRate, double GradNorm, double TokensPerSecond,
    IReadOnlyDictionary<string, double> TeacherWeight, IReadOnlyDictionary<string, double> TeacherCoverage, double? EvalBitsPerByte = null,
    IReadOnlyDictionary<string, double>? TeacherTerm = null)
{
    /// <summary>The step as (step, name, value) rows, the form lineage stores and audits compare.</summary>
    public IEnumerable<(int Step, string Name, double Value)> Rows()
    {
        yield return (Step, "loss", Loss);
        yield return (Step, "ce", HardLabelCe);
        if (Distillation is { } kd) yield return (Step, "kd", kd);
        yield return (Step, "lr", LearningRate);
        yield return (Step, "grad_norm", GradNorm);
        yield return (Step, "tokens_per_s", TokensPerSecond);
        foreach (var (name, w) in TeacherWeight) yield return (Step, $"weight:{name}", w);
        foreach (var (name, c) in TeacherCoverage) yield return (Step, $"coverage:{name}", c);
        foreach (var (name, d) in TeacherTerm ?? new Dictionary<string, double>()) yield return (Step, $"term:{name}", d);
        if (EvalBitsPerByte is { } bpb) yield return (Step, "eval_bits_per_byte", bpb);
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
