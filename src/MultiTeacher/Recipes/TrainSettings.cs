using MultiTeacher.Settings;

namespace MultiTeacher.Recipes;

/// <summary>How the learning rate decays after warmup.</summary>
public enum ScheduleKind
{
    Cosine,
    Linear,
    Constant,
}

/// <summary>Where the trainer gets teacher distributions.</summary>
public enum TeacherMode
{
    /// <summary>Each teacher runs once over the data; training reads its stored top-k.</summary>
    Cached,
    /// <summary>Teachers run alongside the student at every step.</summary>
    Online,
}

/// <summary>The dtype the student's forward and backward passes run in.</summary>
public enum StudentPrecision
{
    Float32,
    /// <summary>A bfloat16 copy computes; float32 master weights take the optimizer's steps.</summary>
    Bfloat16,
}

/// <summary>
/// The training loop's settings. Lives with the recipe rather than in Training because the trainer
/// reads the whole recipe: Training depends on Recipes, so Recipes cannot depend on Training.
/// </summary>
public sealed record TrainSettings
{
    [Setting("steps", "optimizer steps", Min = 1, Max = 10_000_000)]
    public int Steps { get; init; } = 100;

    [Setting("batch_size", "sequences per micro-batch", Min = 1, Max = 4096)]
    public int BatchSize { get; init; } = 8;

    [Setting("grad_accum", "micro-batches per optimizer step", Min = 1, Max = 4096)]
    public int GradAccum { get; init; } = 1;

    [Setting("lr", "peak learning rate (AdamW)", Min = 0, ExclusiveMin = true, Max = 10)]
    public double LearningRate { get; init; } = 1e-3;

    [Setting("warmup_steps", "steps of linear warmup to the peak rate", Min = 0, Max = 10_000_000)]
    public int WarmupSteps { get; init; }

    [Setting("schedule", "decay after warmup")]
    public ScheduleKind Schedule { get; init; } = ScheduleKind.Cosine;

    [Setting("weight_decay", "AdamW weight decay", Min = 0, Max = 10)]
    public double WeightDecay { get; init; } = 0.01;

    [Setting("clip", "gradient norm clip (0: none)", Min = 0, Max = 1e6)]
    public double Clip { get; init; } = 1.0;

    [Setting("checkpoint_every", "save a resumable checkpoint every N steps (0: never)", Min = 0, Max = 10_000_000)]
    public int CheckpointEvery { get; init; }

    [Setting("log_every", "print a progress line every N steps", Min = 1, Max = 10_000_000)]
    public int LogEvery { get; init; } = 10;

    [Setting("logits_chunk", "student positions whose logits exist at once: the LM head and the losses run chunk by chunk, so memory does not grow with batch × seq_len × vocabulary (0: the whole micro-batch)",
        Min = 0, Max = 1 << 20)]
    public int LogitsChunk { get; init; }

    [Setting("precision", "dtype of the student's forward and backward passes; with bfloat16 the optimizer still updates float32 master weights, which checkpoints and the saved student hold")]
    public StudentPrecision Precision { get; init; } = StudentPrecision.Float32;

    [Setting("teachers", "teachers cached once, or run online at every step")]
    public TeacherMode TeacherMode { get; init; } = TeacherMode.Cached;

    [Setting("cache_shard_tokens", "student tokens per teacher-cache shard: each shard is its own job, on any worker, and its own file, reused by any run over the same samples (0: one shard per teacher)",
        Min = 0, Max = 1_000_000_000)]
    public int CacheShardTokens { get; init; }
}
