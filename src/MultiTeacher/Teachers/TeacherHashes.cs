using System.Collections.Concurrent;
using MultiTeacher.Recipes;

namespace MultiTeacher.Teachers;

/// <summary>
/// Content hashes of teacher directories, which key their caches. A run's input check has already
/// hashed every teacher it verified (gigabytes at real scale), so those hashes are taken as given;
/// a teacher without one is hashed here, once, when first needed.
/// </summary>
public sealed class TeacherHashes(IReadOnlyDictionary<string, string>? verified = null)
{
    private readonly ConcurrentDictionary<string, string> _computed = new(StringComparer.Ordinal);

    /// <summary>The input key of a teacher in a resolved recipe's hashes.</summary>
    public static string InputKey(string teacher) => $"teachers.{teacher}";

    public string Of(TeacherSettings teacher) =>
        verified is not null && verified.TryGetValue(InputKey(teacher.Name), out var hash) ? hash : _computed.GetOrAdd(teacher.Path, path => ContentHash.Of(path));
}
