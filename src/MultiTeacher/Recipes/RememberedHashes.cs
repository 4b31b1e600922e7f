using System.Collections.Concurrent;

namespace MultiTeacher.Recipes;

/// <summary>
/// File hashes remembered by a long-lived process (a worker) against each file's length and
/// modification time: a worker that runs many stages over the same multi-GB teacher reads it once,
/// not once per stage. A file written since, whatever its content, is read and hashed again.
/// </summary>
public sealed class RememberedHashes
{
    private static readonly TimeSpan RacyWindow = TimeSpan.FromSeconds(3);
    private readonly ConcurrentDictionary<string, (long Length, DateTime Modified, string Hash)> _files = new(StringComparer.Ordinal);

    /// <summary>The file's sha256, as <see cref="ContentHash.OfFile"/>; read only when its length or modification time changed since the last call.</summary>
    public string OfFile(string path)
    {
        var full = Path.GetFullPath(path);
        var info = new FileInfo(full);
        if (!info.Exists) return ContentHash.OfFile(full);   // its error, unremembered
        var (length, modified) = (info.Length, info.LastWriteTimeUtc);
        if (_files.TryGetValue(full, out var known) && known.Length == length && known.Modified == modified) return known.Hash;
        var hash = ContentHash.OfFile(full);
        // Stat again after reading: a file written while it was read is not remembered with a hash of a mix. Nor is a
        // file written in the last seconds: on a filesystem with coarse timestamps, a second write of the same length
        // could keep its modification time (git's "racy clean" entries).
        info.Refresh();
        if (info.Length == length && info.LastWriteTimeUtc == modified && DateTime.UtcNow - modified > RacyWindow) _files[full] = (length, modified, hash);
        return hash;
    }

    /// <summary>A file's or directory's content hash, as <see cref="ContentHash.Of"/>, each file remembered.</summary>
    public string Of(string path) => ContentHash.Of(path, OfFile);
}
