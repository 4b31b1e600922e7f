using MultiTeacher.Recipes;

namespace MultiTeacher.Training;

/// <summary>Linear warmup to the peak rate, then cosine or linear decay to zero (or constant).</summary>
public sealed record LearningRateSchedule(double Peak, int WarmupSteps, int TotalSteps, ScheduleKind Kind)
{
    /// <summary>The rate for step (1-based).</summary>
    public double At(int step)
    {
        if (WarmupSteps > 0 && step <= WarmupSteps) return Peak * step / WarmupSteps;
        if (Kind == ScheduleKind.Constant || TotalSteps <= WarmupSteps) return Peak;
        var progress = (double)(step - WarmupSteps) / (TotalSteps - WarmupSteps);
        return Kind == ScheduleKind.Linear ? Peak * (1 - progress) : Peak * 0.5 * (1 + Math.Cos(Math.PI * progress));
    }
}
