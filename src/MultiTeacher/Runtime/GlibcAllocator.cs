using System.Runtime.InteropServices;

namespace MultiTeacher.Runtime;

/// <summary>
/// Keeps glibc from returning large blocks to the kernel. libtorch allocates CPU tensors with
/// malloc; glibc serves blocks above 32 MB with fresh mmap pages and unmaps them on free, so every
/// forward pass pays first-touch page faults for its logits (measured here: 170 ms to allocate one
/// 131 MB logits tensor, 1.7 ms once blocks are reused; the lm_head matmul went from 88 to 167
/// GFLOP/s). PyTorch's CPU guidance suggests jemalloc or tcmalloc for the same reason; this is
/// the in-process equivalent. Set MT_GLIBC_MALLOC=default to leave glibc as it is.
/// </summary>
public static partial class GlibcAllocator
{
    private const int MTrimThreshold = -1, MMmapMax = -4;
    private static int _applied;

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int Mallopt(int parameter, int value);

    /// <summary>Applies the setting once per process; returns whether glibc accepted it.</summary>
    public static bool KeepFreedMemory()
    {
        if (Interlocked.Exchange(ref _applied, 1) == 1) return true;
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("MT_GLIBC_MALLOC") == "default") return false;
        try
        {
            // No mmap for large blocks (they come from the heap and are reused), and no trimming of the heap top.
            // Threads other than main need MALLOC_ARENA_MAX=1 as well (SingleArenaLauncher).
            return Mallopt(MMmapMax, 0) == 1 && Mallopt(MTrimThreshold, int.MaxValue) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;   // not glibc (e.g. musl): nothing to tune
        }
    }
}
