using System.Globalization;

namespace MultiTeacher.Training;

/// <summary>The one-line progress report of a training step, as logs and `mt run` print it.</summary>
public static class StepLine
{
    public static string Format(StepMetrics m, int totalSteps, TimeSpan? eta = null)
    {
        var teachers = string.Join(" ", m.TeacherWeight.Select(kv => $"{kv.Key}:w={kv.Value:F2},cov={m.TeacherCoverage[kv.Key]:P0}" +
            (m.TeacherMarginalized?.GetValueOrDefault(kv.Key) is > 0 and var moved ? $",marg={moved:P1}" : "")));
        var kd = m.Distillation is { } d ? d.ToString("F4", CultureInfo.InvariantCulture) : "-";
        var left = eta is { } e ? $"  eta {e:mm\\:ss}" : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"step {m.Step,5}/{totalSteps}  loss {m.Loss:F4}  ce {m.HardLabelCe:F4}  kd {kd}  lr {m.LearningRate:E2}  {m.TokensPerSecond:N0} tok/s{left}  {teachers}");
    }
}
