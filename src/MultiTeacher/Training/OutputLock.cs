using MultiTeacher.Runtime;

namespace MultiTeacher.Training;

/// <summary>A run's claim on its output directory: two runs writing one directory would tear its metrics, checkpoints and student.</summary>
public static class OutputLock
{
    /// <summary>Holds the directory until disposed; a directory another process holds is bad input.</summary>
    public static IDisposable Take(string output) => DirectoryLock.TryAcquire(output)
        ?? throw new InvalidDataException($"output directory {Path.GetFullPath(output)} is in use by another run; wait for it to end or give the recipe another output");
}
