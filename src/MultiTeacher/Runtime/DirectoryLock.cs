namespace MultiTeacher.Runtime;

/// <summary>
/// An exclusive lock on a directory, held through DIRECTORY/.mt-lock (flock, released by the kernel
/// when the process dies, even by SIGKILL). Re-entrant within a process, so the command that locks a
/// run's output directory and the in-process job that trains into it share one lock.
/// </summary>
public sealed class DirectoryLock : IDisposable
{
    private static readonly Dictionary<string, (FileStream File, int Holders)> Held = [];
    private readonly string _path;
    private bool _disposed;

    private DirectoryLock(string path) => _path = path;

    /// <summary>The lock, or null when another process holds it.</summary>
    public static DirectoryLock? TryAcquire(string directory)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(Path.GetFullPath(directory), ".mt-lock");
        lock (Held)
        {
            if (Held.TryGetValue(path, out var held)) Held[path] = (held.File, held.Holders + 1);
            else
            {
                try { Held[path] = (new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None), 1); }
                catch (IOException) { return null; }
            }
        }
        return new DirectoryLock(path);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        lock (Held)
        {
            var (file, holders) = Held[_path];
            if (holders > 1) Held[_path] = (file, holders - 1);
            else
            {
                Held.Remove(_path);
                file.Dispose();
            }
        }
    }
}
