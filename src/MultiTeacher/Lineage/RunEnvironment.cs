using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using MultiTeacher.Recipes;

namespace MultiTeacher.Lineage;

/// <summary>The facts a run's results may depend on: code, libraries, machine, threads, device. Recorded per run; audits compare them.</summary>
public static class RunEnvironment
{
    public static Dictionary<string, string> Current(Recipe recipe) => Current(recipe.Device, recipe.Deterministic);

    public static Dictionary<string, string> Current(string device, bool deterministic) => new()
    {
        ["dotnet"] = System.Environment.Version.ToString(),
        ["torchsharp"] = typeof(TorchSharp.torch).Assembly.GetName().Version?.ToString() ?? "?",
        ["libtorch"] = Metadata("LibTorchPackage"),
        ["os"] = RuntimeInformation.OSDescription,
        ["cpu"] = CpuModel(),
        ["cpu_threads"] = TorchSharp.torch.get_num_threads().ToString(),
        ["device"] = device,
        ["cuda_available"] = TorchSharp.torch.cuda.is_available() ? "true" : "false",
        ["deterministic"] = deterministic ? "true" : "false",
        ["git_commit"] = GitCommit(),
    };

    private static string Metadata(string key) =>
        typeof(RunEnvironment).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == key)?.Value ?? "unknown";

    private static string CpuModel()
    {
        try
        {
            return File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
                ?? RuntimeInformation.ProcessArchitecture.ToString();
        }
        catch (IOException) { return RuntimeInformation.ProcessArchitecture.ToString(); }
    }

    private static string GitCommit()
    {
        try
        {
            using var git = Process.Start(new ProcessStartInfo("git", ["rev-parse", "HEAD"]) { RedirectStandardOutput = true, RedirectStandardError = true });
            var commit = git!.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit();
            return git.ExitCode == 0 ? commit : "unknown";
        }
        catch (System.ComponentModel.Win32Exception) { return "unknown"; }
    }
}
