using MultiTeacher.Tokenization;

namespace MultiTeacher.Alignment;

/// <summary>How teacher tokens are sent to student tokens.</summary>
public enum ProjectionMethod
{
    /// <summary>Same bytes ("▁"/"Ġ" read as the space they stand for); special tokens by role; others to the tail.</summary>
    Exact,
    /// <summary>The student token with the same bytes if any, else the first token the student writes for those bytes mid-text.</summary>
    FirstToken,
    /// <summary>FuseLLM's MinED: the student token nearest in edit distance over the token bytes.</summary>
    MinEdit,
}

/// <summary>
/// A map from every teacher token id to one student token id, or to -1 (the tail bucket: its
/// probability mass is kept as mass outside the student's support, never dropped).
/// </summary>
public sealed class VocabularyProjection
{
    public const int Tail = -1;

    public ProjectionMethod Method { get; }
    public string TeacherHash { get; }
    public string StudentHash { get; }
    public int StudentVocabSize { get; }
    /// <summary>Student id for each teacher id (Tail for none).</summary>
    public int[] Map { get; }
    /// <summary>Teacher ids whose target has exactly the teacher token's bytes (or the same role).</summary>
    public bool[] IsExact { get; }

    public VocabularyProjection(ProjectionMethod method, string teacherHash, string studentHash, int studentVocabSize, int[] map, bool[] isExact)
    {
        if (map.Length != isExact.Length) throw new ArgumentException("map and exactness flags differ in length");
        Method = method;
        TeacherHash = teacherHash;
        StudentHash = studentHash;
        StudentVocabSize = studentVocabSize;
        Map = map;
        IsExact = isExact;
    }

    public int TeacherVocabSize => Map.Length;
    public int ExactCount => IsExact.Count(e => e);
    public int TailCount => Map.Count(m => m == Tail);

    /// <summary>For each student id, how many teacher ids the map sends to it.</summary>
    public int[] Preimages => _preimages ??= CountPreimages();
    private int[]? _preimages;

    private int[] CountPreimages()
    {
        var counts = new int[StudentVocabSize];
        foreach (var s in Map) if ((uint)s < (uint)counts.Length) counts[s]++;
        return counts;
    }

    /// <summary>Builds the projection (no cache; see <see cref="ProjectionCache"/>).</summary>
    public static VocabularyProjection Build(HfTokenizer teacher, HfTokenizer student, ProjectionMethod method)
    {
        var map = new int[teacher.VocabSize];
        var exact = new bool[teacher.VocabSize];
        if (teacher.ContentHash == student.ContentHash)
        {
            // One vocabulary on both sides: every method is the identity.
            for (var id = 0; id < map.Length; id++) { map[id] = teacher.TokenText(id) is null ? Tail : id; exact[id] = map[id] != Tail; }
            return new VocabularyProjection(method, teacher.ContentHash, student.ContentHash, student.VocabSize, map, exact);
        }

        var byBytes = StudentIdsByBytes(student);
        MinEditIndex? minEdit = method == ProjectionMethod.MinEdit ? new MinEditIndex(student) : null;
        Parallel.For(0, teacher.VocabSize, id =>
        {
            map[id] = Tail;
            if (teacher.TokenText(id) is null) return;
            if (teacher.IsSpecial(id))
            {
                map[id] = RoleTarget(teacher, student, id);
                exact[id] = map[id] != Tail;
                return;
            }
            var bytes = teacher.TokenBytes(id);
            if (byBytes.TryGetValue(Convert.ToHexString(bytes), out var same))
            {
                map[id] = same;
                exact[id] = true;
                return;
            }
            map[id] = method switch
            {
                ProjectionMethod.Exact => Tail,
                ProjectionMethod.FirstToken => student.EncodeBytesMidText(bytes) is [var first, ..] ? first : Tail,
                ProjectionMethod.MinEdit => minEdit!.Nearest(bytes),
                _ => throw new ArgumentOutOfRangeException(nameof(method)),
            };
        });
        return new VocabularyProjection(method, teacher.ContentHash, student.ContentHash, student.VocabSize, map, exact);
    }

    /// <summary>
    /// Student ids by their bytes. Where several student tokens share bytes (a SentencePiece
    /// "&lt;0xNN&gt;" byte token and the one-char token of that byte), the one the student itself
    /// writes for those bytes wins.
    /// </summary>
    private static Dictionary<string, int> StudentIdsByBytes(HfTokenizer student)
    {
        var byBytes = new Dictionary<string, int>(StringComparer.Ordinal);
        var aliased = new HashSet<string>(StringComparer.Ordinal);
        for (var id = 0; id < student.VocabSize; id++)
        {
            if (student.TokenText(id) is null || student.IsSpecial(id)) continue;
            var key = Convert.ToHexString(student.TokenBytes(id));
            if (!byBytes.TryAdd(key, id)) aliased.Add(key);
        }
        foreach (var key in aliased)
            if (student.EncodeBytesMidText(Convert.FromHexString(key)) is [var written])
                byBytes[key] = written;
        return byBytes;
    }

    private static int RoleTarget(HfTokenizer teacher, HfTokenizer student, int id)
    {
        if (id == teacher.Roles.Bos) return student.Roles.Bos >= 0 ? student.Roles.Bos : Tail;
        if (id == teacher.Roles.Eos) return student.Roles.Eos >= 0 ? student.Roles.Eos : Tail;
        if (id == teacher.Roles.Pad) return student.Roles.Pad >= 0 ? student.Roles.Pad : Tail;
        if (id == teacher.Roles.Unk) return student.Roles.Unk >= 0 ? student.Roles.Unk : Tail;
        return Tail;
    }
}
