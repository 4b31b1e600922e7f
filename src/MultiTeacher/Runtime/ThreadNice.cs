using System.Globalization;
using System.Runtime.InteropServices;

namespace MultiTeacher.Runtime;

/// <summary>
/// Lowers the CPU priority (raises the nice value) of every thread of this process. On Linux the
/// nice value belongs to each thread, not to the process: setpriority on the process id changes
/// only the main thread, so each task in /proc/self/task is set on its own. Threads created
/// afterwards inherit the value of the thread that creates them, so once every thread is lowered,
/// the thread pool's and the runtime's later threads are too.
/// </summary>
public static partial class ThreadNice
{
    /// <summary>The lowest priority the kernel knows (the highest nice value).</summary>
    public const int Lowest = 19;

    private const int PrioProcess = 0;

    [LibraryImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    private static partial int SetPriority(int which, int who, int priority);

    [LibraryImport("libc", EntryPoint = "getpriority", SetLastError = true)]
    private static partial int GetPriority(int which, int who);

    /// <summary>
    /// Sets every thread whose nice value is below <paramref name="nice"/> to it (never raises a
    /// thread's priority); returns how many threads were changed. Nothing happens off Linux or with
    /// nice 0 or less.
    /// </summary>
    public static int LowerAllThreads(int nice)
    {
        if (!OperatingSystem.IsLinux() || nice <= 0) return 0;
        nice = Math.Min(nice, Lowest);
        var changed = 0;
        // A thread started by a not-yet-lowered thread while the list is read is caught by the next pass.
        for (var pass = 0; pass < 3; pass++)
        {
            var thisPass = 0;
            foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
            {
                if (!int.TryParse(Path.GetFileName(task), NumberStyles.None, CultureInfo.InvariantCulture, out var tid)) continue;
                Marshal.SetLastPInvokeError(0);
                var current = GetPriority(PrioProcess, tid);
                if (current == -1 && Marshal.GetLastPInvokeError() != 0) continue;   // the thread has ended
                if (current >= nice) continue;
                if (SetPriority(PrioProcess, tid, nice) == 0) thisPass++;
            }
            changed += thisPass;
            if (thisPass == 0) break;
        }
        return changed;
    }
}
