using System.Runtime.InteropServices;

namespace MultiTeacher.Checkpoints;

/// <summary>
/// A tensor's bytes where they lie in its memory-mapped safetensors file, read in place without a
/// copy; valid until the checkpoint is disposed. Pages a reader is done with can be dropped from the
/// process (the page cache keeps them), and pages it will read next can be read ahead.
/// </summary>
public readonly unsafe struct MappedTensor(SafetensorsEntry entry, byte* data)
{
    public SafetensorsEntry Entry => entry;
    public byte* Data => data;
    public long Length => entry.End - entry.Begin;

    /// <summary>Starts reading the tensor from disk into the page cache and returns without waiting for it.</summary>
    public void Prefetch() => Prefetch(0, Length);

    /// <summary>The same for bytes [offset, offset + length).</summary>
    public void Prefetch(long offset, long length)
    {
        if (offset < Length) MappedPages.WillNeed(data + offset, Math.Min(length, Length - offset));
    }

    /// <summary>Drops bytes [offset, offset + length) from this process's resident set.</summary>
    public void Release(long offset, long length) => MappedPages.Drop(data + offset, Math.Min(length, Length - offset));
}

/// <summary>madvise on ranges of a read-only file mapping.</summary>
internal static unsafe class MappedPages
{
    private const int MadvWillNeed = 3, MadvDontNeed = 4;

    /// <summary>
    /// Unmaps the range's whole pages from this process (the page cache keeps them): streaming a whole
    /// model through the mapping would otherwise leave all of it counted in our resident set.
    /// </summary>
    public static void Drop(byte* start, long length)
    {
        if (!OperatingSystem.IsLinux() || length <= 0) return;
        var page = Environment.SystemPageSize;
        var first = ((long)start + page - 1) / page * page;   // only whole pages inside the range
        var last = ((long)start + length) / page * page;
        if (last > first) _ = madvise((nint)first, (nuint)(last - first), MadvDontNeed);
    }

    /// <summary>Asks the kernel to read the range's pages ahead (asynchronous readahead of the file).</summary>
    public static void WillNeed(byte* start, long length)
    {
        if (!OperatingSystem.IsLinux() || length <= 0) return;
        var page = Environment.SystemPageSize;
        var first = (long)start / page * page;
        _ = madvise((nint)first, (nuint)((long)start + length - first), MadvWillNeed);
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int madvise(nint address, nuint length, int advice);
}
