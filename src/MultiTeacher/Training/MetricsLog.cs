using System.Text.Json;
using MultiTeacher.Runs;

namespace MultiTeacher.Training;

/// <summary>
/// OUTPUT/metrics.jsonl, one line per step. A resumed run trains again the steps after its checkpoint,
/// so it first drops their lines (and a line torn by a kill), keeping each step once.
/// </summary>
public static class MetricsLog
{
    public const string FileName = "metrics.jsonl";

    /// <summary>Opens the log for writing step <paramref name="fromStep"/> + 1 onwards (a fresh log when 0).</summary>
    public static StreamWriter Open(string output, int fromStep)
    {
        var path = Path.Combine(output, FileName);
        if (fromStep > 0 && File.Exists(path))
        {
            var kept = File.ReadLines(path).Where(line => StepOf(line) is { } step && step <= fromStep).ToList();
            var rewritten = path + ".tmp";
            File.WriteAllLines(rewritten, kept);
            File.Move(rewritten, path, overwrite: true);
        }
        return new StreamWriter(path, append: fromStep > 0);
    }

    private static int? StepOf(string line)
    {
        try { return JsonDocument.Parse(line).RootElement.TryGetProperty(MetricNames.Step, out var step) && step.TryGetInt32(out var value) ? value : null; }
        catch (JsonException) { return null; }
    }
}
