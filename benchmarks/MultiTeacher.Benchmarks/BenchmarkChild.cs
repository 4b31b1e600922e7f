using System.Diagnostics;
using System.Globalization;

namespace MultiTeacher.Benchmarks;

/// <summary>
/// One measurement in a fresh process of this benchmark program: a process's peak RSS cannot be
/// reset and glibc keeps freed memory, so peaks of different variants are only separable this way.
/// </summary>
public static class BenchmarkChild
{
    /// <summary>Runs the program with <paramref name="args"/> and returns the numbers on the last line it prints.</summary>
    public static double[] Run(params string[] args)
    {
        var info = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var line = process.StandardOutput.ReadToEnd().Trim().Split('\n')[^1];
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"benchmark child '{string.Join(' ', args)}' failed: {line}");
        return line.Split(' ').Select(x => double.Parse(x, CultureInfo.InvariantCulture)).ToArray();
    }

    /// <summary>The child side: prints the numbers as the last line, for <see cref="Run"/>.</summary>
    public static void Report(params double[] values) =>
        Console.WriteLine(string.Join(' ', values.Select(v => v.ToString("R", CultureInfo.InvariantCulture))));

    /// <summary>This process's peak resident set (VmHWM) in bytes, as the kernel counts it.</summary>
    public static long PeakRssBytes() => StatusBytes("VmHWM:");

    /// <summary>This process's resident set now (VmRSS) in bytes.</summary>
    public static long RssBytes() => StatusBytes("VmRSS:");

    private static long StatusBytes(string field) =>
        long.Parse(File.ReadLines("/proc/self/status").First(l => l.StartsWith(field)).Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
}
