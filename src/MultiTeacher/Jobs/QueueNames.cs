using System.Text.RegularExpressions;

namespace MultiTeacher.Jobs;

/// <summary>Hangfire queue names and what they mean: gpu-N runs on CUDA device N, anything else on the recipe's device.</summary>
public static partial class QueueNames
{
    [GeneratedRegex("^[a-z0-9_-]{1,40}$")]
    private static partial Regex Valid();

    [GeneratedRegex("^gpu-([0-9]+)$")]
    private static partial Regex Gpu();

    public static string Check(string queue) => Valid().IsMatch(queue) ? queue
        : throw new ArgumentException($"queue name '{queue}' is not valid: lowercase letters, digits, '-' and '_' only, at most 40 characters");

    /// <summary>gpu-0 when CUDA is available, else cpu.</summary>
    public static string Default() => TorchSharp.torch.cuda.is_available() ? "gpu-0" : "cpu";

    /// <summary>One gpu-N queue per CUDA device, or cpu without one.</summary>
    public static string[] ForThisMachine() => TorchSharp.torch.cuda.is_available()
        ? Enumerable.Range(0, TorchSharp.torch.cuda.device_count()).Select(i => $"gpu-{i}").ToArray()
        : ["cpu"];

    /// <summary>The device a job taken from this queue trains on.</summary>
    public static string DeviceFor(string? queue, string recipeDevice) =>
        recipeDevice != "cpu" && queue is not null && Gpu().Match(queue) is { Success: true } m ? $"cuda:{m.Groups[1].Value}" : recipeDevice;
}
