namespace MultiTeacher.Recipes;

/// <summary>Where the text comes from and how it is cut into training sequences.</summary>
public sealed record DataSpec(string Train, string? Eval, string Format, string Field, int SequenceLength, bool Packing);

/// <summary>One teacher: a Hugging Face model directory (with its tokenizer files) and its mixing weight.</summary>
public sealed record TeacherSpec(string Name, string Path, double Weight, string DType);

/// <summary>The student: initialised from a model directory, or fresh from a config.json plus a tokenizer directory.</summary>
public sealed record StudentSpec(string? Init, string? Config, string? Tokenizer)
{
    public string TokenizerDirectory => Tokenizer ?? Init!;
}

public sealed record AlignmentSpec(string Method, int TopK, string Tail);
public sealed record MixingSpec(string Policy, double Temperature, string Granularity);
public sealed record LossSpec(string Kind, double Temperature, double Beta, double HardLabelWeight);
public sealed record TrainSpec(int Steps, int BatchSize, int GradAccum, double LearningRate, int WarmupSteps, string Schedule,
    double WeightDecay, double Clip, int CheckpointEvery, int LogEvery, string TeacherMode);
public sealed record EvalSpec(int Every, long MaxBytes);

/// <summary>A validated recipe: every path absolute, every default filled in.</summary>
/// <param name="Threads">CPU threads for torch (0: torch's default). Fixed for runs that must replay bit-identically.</param>
/// <param name="Deterministic">Marks a run that must be auditable: requires a fixed thread count; recorded in the environment.</param>
public sealed record Recipe(string Source, string Name, long Seed, string Device, DataSpec Data, IReadOnlyList<TeacherSpec> Teachers,
    StudentSpec Student, AlignmentSpec Alignment, MixingSpec Mixing, LossSpec Loss, TrainSpec Train, EvalSpec Eval, string Output,
    int Threads = 0, bool Deterministic = false);
