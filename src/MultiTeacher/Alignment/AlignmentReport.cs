using System.Text;
using MultiTeacher.Tokenization;

namespace MultiTeacher.Alignment;

/// <summary>
/// How well one teacher vocabulary maps onto one student vocabulary: projection statistics and,
/// on a text, sequence coverage and the share of the teacher's actual next tokens that land on a
/// student token with exactly the same bytes (the empirical next-token mass on exact matches).
/// </summary>
public sealed record AlignmentReport(
    string Teacher, string Student, ProjectionMethod Method,
    int TeacherVocab, int StudentVocab, int ExactTokens, int TailTokens,
    long Positions, long AlignedPositions, long TeacherTokens, long ExactMassTokens,
    IReadOnlyDictionary<UnalignedReason, long> Unaligned)
{
    public double Coverage => Positions == 0 ? 0 : (double)AlignedPositions / Positions;
    public double ExactMass => TeacherTokens == 0 ? 0 : (double)ExactMassTokens / TeacherTokens;

    public static AlignmentReport Compute(HfTokenizer teacher, HfTokenizer student, VocabularyProjection projection,
        IEnumerable<string> lines, string teacherName, string studentName)
    {
        long positions = 0, aligned = 0, teacherTokens = 0, exactTokens = 0;
        var reasons = Enum.GetValues<UnalignedReason>().ToDictionary(r => r, _ => 0L);
        foreach (var line in lines)
        {
            if (line.Length == 0) continue;
            var s = student.Encode(line);
            var t = teacher.Encode(line);
            var alignment = SequenceAligner.Align(s, student, t, teacher);
            positions += alignment.Positions;
            aligned += alignment.Aligned;
            for (var j = 0; j < alignment.Positions; j++) reasons[alignment.Reasons[j]]++;
            for (var i = 1; i < t.Count; i++)
            {
                teacherTokens++;
                if (projection.IsExact[t.Ids[i]]) exactTokens++;
            }
        }
        reasons.Remove(UnalignedReason.None);
        reasons.Remove(UnalignedReason.EndOfSequence);
        return new AlignmentReport(teacherName, studentName, projection.Method, teacher.VocabSize, student.VocabSize,
            projection.ExactCount, projection.TailCount, positions, aligned, teacherTokens, exactTokens, reasons);
    }

    /// <summary>Lines of a UTF-8 text file; invalid UTF-8 is an error naming the file and byte offset.</summary>
    public static string[] ReadUtf8Lines(string path)
    {
        var bytes = File.ReadAllBytes(path);
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes).Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        }
        catch (DecoderFallbackException e)
        {
            throw new InvalidDataException($"{path}: not UTF-8 text (invalid byte at offset {e.Index})", e);
        }
    }
}
