using System.Diagnostics;
using System.Runtime.InteropServices;

namespace MultiTeacher.Runtime;

/// <summary>
/// Runs the process again with MALLOC_ARENA_MAX=1 when it was started without it. Training runs on
/// Hangfire worker threads; glibc gives such threads arenas of their own (64 MB heaps), which with
/// <see cref="GlibcAllocator"/>'s no-mmap setting made the demo's large-vocabulary steps 4-6x slower
/// (251 s against 59 s for 80 steps). glibc reads the arena limit only at start-up, and by the time
/// Main runs the runtime's threads already have their arenas, so the limit has to be in the
/// environment before the process starts.
/// </summary>
public static partial class SingleArenaLauncher
{
    private const string Variable = "MALLOC_ARENA_MAX";

    [LibraryImport("libc", EntryPoint = "kill")]
    private static partial int Kill(int pid, int signal);

    /// <summary>The child's exit code when this process relaunched itself; null when it should carry on itself.</summary>
    public static int? Relaunch(string[] args)
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable(Variable) is { Length: > 0 }
            || Environment.GetEnvironmentVariable("MT_GLIBC_MALLOC") == "default" || Environment.ProcessPath is not { } self)
            return null;
        var start = new ProcessStartInfo(self) { UseShellExecute = false };
        // Under `dotnet mt.dll`, the host needs the assembly path again.
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") start.ArgumentList.Add(Environment.GetCommandLineArgs()[0]);
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment[Variable] = "1";
        using var child = Process.Start(start)!;
        // Ctrl+C reaches the whole process group, child included; SIGTERM sent to this process is passed on.
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => c.Cancel = true);
        using var quit = PosixSignalRegistration.Create(PosixSignal.SIGQUIT, c => c.Cancel = true);
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; Kill(child.Id, 15); });
        child.WaitForExit();
        return child.ExitCode;
    }
}
