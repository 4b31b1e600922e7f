using System.Security.Cryptography;
using System.Text;
using MultiTeacher.Tokenization;

namespace MultiTeacher.Alignment;

/// <summary>
/// Projections on disk, one file per (teacher tokenizer, student tokenizer, method), named by both
/// tokenizers' content hashes so a changed tokenizer file gets a new projection. Files carry a
/// versioned header and a sha256 trailer; a truncated or corrupted file is rebuilt, never used.
/// </summary>
public sealed class ProjectionCache(string directory)
{
    private static readonly byte[] Magic = "MTPROJ\0\0"u8.ToArray();
    private const int FormatVersion = 1;

    public string Directory { get; } = Path.GetFullPath(directory);

    /// <summary>MT_CACHE/projections, else ~/.cache/multiteacher/projections.</summary>
    public static ProjectionCache Default() => new(MultiTeacher.Cache.CacheDirectories.Projections);

    public string PathFor(HfTokenizer teacher, HfTokenizer student, ProjectionMethod method) =>
        Path.Combine(Directory, $"{teacher.ContentHash[..16]}-{student.ContentHash[..16]}-{method.ToString().ToLowerInvariant()}.mtproj");

    /// <summary>The cached projection, or a freshly built one that is then stored. `Built` says which.</summary>
    public (VocabularyProjection Projection, bool Built) GetOrBuild(HfTokenizer teacher, HfTokenizer student, ProjectionMethod method)
    {
        var path = PathFor(teacher, student, method);
        if (TryRead(path, out var cached, out _) && cached!.TeacherHash == teacher.ContentHash &&
            cached.StudentHash == student.ContentHash && cached.Method == method)
            return (cached, false);
        var built = VocabularyProjection.Build(teacher, student, method);
        Write(path, built);
        return (built, true);
    }

    public static void Write(string path, VocabularyProjection p)
    {
        using var body = new MemoryStream();
        using (var w = new BinaryWriter(body, Encoding.ASCII, leaveOpen: true))
        {
            w.Write(Magic);
            w.Write(FormatVersion);
            w.Write((int)p.Method);
            w.Write(Encoding.ASCII.GetBytes(p.TeacherHash.PadRight(64)[..64]));
            w.Write(Encoding.ASCII.GetBytes(p.StudentHash.PadRight(64)[..64]));
            w.Write(p.StudentVocabSize);
            w.Write(p.Map.Length);
            foreach (var id in p.Map) w.Write(id);
            foreach (var e in p.IsExact) w.Write(e);
        }
        var bytes = body.ToArray();
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + $".{Guid.NewGuid():N}.tmp";
        using (var file = File.Create(temp))
        {
            file.Write(bytes);
            file.Write(SHA256.HashData(bytes));
        }
        File.Move(temp, path, overwrite: true);   // readers see the old file or the whole new one
    }

    /// <summary>Reads a projection file; false with the reason when it is missing, truncated or corrupt.</summary>
    public static bool TryRead(string path, out VocabularyProjection? projection, out string? problem)
    {
        projection = null;
        if (!File.Exists(path)) { problem = "missing"; return false; }
        var all = File.ReadAllBytes(path);
        if (all.Length < Magic.Length + 32) { problem = "truncated"; return false; }
        var body = all.AsSpan(0, all.Length - 32);
        if (!SHA256.HashData(body).AsSpan().SequenceEqual(all.AsSpan(all.Length - 32))) { problem = "checksum mismatch"; return false; }
        using var r = new BinaryReader(new MemoryStream(all, 0, body.Length));
        if (!r.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic)) { problem = "not a projection file"; return false; }
        if (r.ReadInt32() != FormatVersion) { problem = "other format version"; return false; }
        var method = (ProjectionMethod)r.ReadInt32();
        var teacherHash = Encoding.ASCII.GetString(r.ReadBytes(64)).TrimEnd();
        var studentHash = Encoding.ASCII.GetString(r.ReadBytes(64)).TrimEnd();
        var studentVocab = r.ReadInt32();
        var count = r.ReadInt32();
        if (count < 0 || body.Length != Magic.Length + 4 * 4 + 128 + count * 5) { problem = "size does not match the header"; return false; }
        var map = new int[count];
        for (var i = 0; i < count; i++) map[i] = r.ReadInt32();
        var exact = new bool[count];
        for (var i = 0; i < count; i++) exact[i] = r.ReadBoolean();
        projection = new VocabularyProjection(method, teacherHash, studentHash, studentVocab, map, exact);
        problem = null;
        return true;
    }
}
