namespace MultiTeacher.Reporting;

/// <summary>
/// One colour per teacher on every page: a teacher's colour is its position among all teachers
/// lineage knows (oldest first), so the same name has the same colour on run, compare, lineage and
/// contribution pages, and teachers of one run differ while there are fewer than the palette holds.
/// </summary>
public sealed class TeacherPalette(IReadOnlyList<string> knownTeachers)
{
    /// <summary>Colours that stay apart for the colour-blind (Tableau 10 order) and on white.</summary>
    public static readonly string[] Colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"];

    /// <summary>The colour of lines that belong to no teacher (the student, the loss).</summary>
    public const string Neutral = "#333333";

    private readonly Dictionary<string, int> index = knownTeachers.Distinct(StringComparer.Ordinal)
        .Select((name, i) => (name, i)).ToDictionary(x => x.name, x => x.i, StringComparer.Ordinal);

    /// <summary>The teacher's colour; a name lineage does not know yet gets a stable colour from its characters.</summary>
    public string Colour(string teacher) =>
        Colours[(index.TryGetValue(teacher, out var i) ? i : StableHash(teacher)) % Colours.Length];

    private static int StableHash(string s)
    {
        unchecked
        {
            var h = 2166136261u;
            foreach (var ch in s) h = (h ^ ch) * 16777619u;
            return (int)(h % int.MaxValue);
        }
    }
}
