using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace MultiTeacher.Runtime;

/// <summary>
/// Runs the process again with MALLOC_ARENA_MAX=1 when it was started without it. Training runs on
/// Hangfire worker threads; glibc gives such threads arenas of their own (64 MB heaps), which with
/// <see cref="GlibcAllocator"/>'s no-mmap setting made the demo's large-vocabulary steps 4-6x slower
/// (251 s against 59 s for 80 steps). glibc reads the arena limit only at start-up, and by the time
/// Main runs the runtime's threads already have their arenas, so the limit has to be in the
/// environment before the process starts. The relaunched child dies with its parent: the kernel
/// sends it SIGTERM when the parent goes, even by SIGKILL, so it cancels its run and exits instead
/// of training on as an orphan.
/// </summary>
public static partial class SingleArenaLauncher
{
    private const string Variable = "MALLOC_ARENA_MAX", Parent = "MT_RELAUNCHED_BY";
    private const int PrSetPdeathsig = 1, SigInt = 2, SigTerm = 15;

    [LibraryImport("libc", EntryPoint = "kill")]
    private static partial int Kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "prctl")]
    private static partial int Prctl(int option, nint arg2, nint arg3, nint arg4, nint arg5);

    [LibraryImport("libc", EntryPoint = "getppid")]
    private static partial int GetParentPid();

    /// <summary>The child's exit code when this process relaunched itself; null when it should carry on itself.</summary>
    public static int? Relaunch(string[] args)
    {
        if (!OperatingSystem.IsLinux()) return null;
        if (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 })
        {
            if (Environment.GetEnvironmentVariable(Parent) is { Length: > 0 } parent) return FollowParent(int.Parse(parent, CultureInfo.InvariantCulture));
            return null;
        }
        if (Environment.GetEnvironmentVariable("MT_GLIBC_MALLOC") == "default" || Environment.ProcessPath is not { } self) return null;
        var start = new ProcessStartInfo(self) { UseShellExecute = false };
        // Under `dotnet mt.dll`, the host needs the assembly path again.
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") start.ArgumentList.Add(Environment.GetCommandLineArgs()[0]);
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment[Variable] = "1";
        start.Environment[Parent] = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        // The kernel signals the child when the thread that forked it ends, so fork from this (main) thread, which lives until exit.
        using var child = Process.Start(start)!;
        // Ctrl+C reaches the whole process group, child included; SIGINT and SIGTERM sent to this process alone are passed on.
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; Kill(child.Id, SigInt); });
        using var quit = PosixSignalRegistration.Create(PosixSignal.SIGQUIT, c => c.Cancel = true);
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; Kill(child.Id, SigTerm); });
        child.WaitForExit();
        return child.ExitCode;
    }

    /// <summary>In the relaunched child: asks for SIGTERM when the parent dies, then exits at once if it already has.</summary>
    private static int? FollowParent(int parent)
    {
        if (Prctl(PrSetPdeathsig, SigTerm, 0, 0, 0) != 0) return null;
        // A parent that died before the request was made sent nothing; this process has been re-parented already.
        return GetParentPid() == parent ? null : 143;
    }
}
