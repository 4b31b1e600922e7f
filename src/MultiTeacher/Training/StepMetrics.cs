namespace MultiTeacher.Training;

/// <summary>What one optimiser step measured; one JSON line of metrics.jsonl per step.</summary>
public sealed record StepMetrics(
    int Step, double Loss, double HardLabelCe, double? Distillation, double LearningRate, double GradNorm, double TokensPerSecond,
    IReadOnlyDictionary<string, double> TeacherWeight, IReadOnlyDictionary<string, double> TeacherCoverage, double? EvalBitsPerByte = null);

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
