using MultiTeacher.Settings;

namespace MultiTeacher.Evaluation;

/// <summary>When and how much held-out text is scored during and after training.</summary>
public sealed record EvalSettings
{
    [Setting("every", "score held-out bits per byte every N steps (0: only at the end)", Min = 0, Max = 100_000_000)]
    public int Every { get; init; }

    [Setting("max_bytes", "held-out bytes scored per evaluation", Min = 1, Max = 1e12)]
    public long MaxBytes { get; init; } = 200_000;
}
