using MultiTeacher.Tokenization;

namespace MultiTeacher.Alignment;

/// <summary>Why a student position has no teacher position predicting the same event.</summary>
public enum UnalignedReason : byte
{
    None = 0,
    /// <summary>The student's next token starts inside a teacher token.</summary>
    InsideTeacherToken,
    /// <summary>The student's next token is special (EOS, a literal control token) with no teacher token of that role.</summary>
    SpecialToken,
    /// <summary>The student's next token covers no byte of the text (SentencePiece's dummy-prefix marker).</summary>
    ZeroWidthToken,
    /// <summary>No teacher position has consumed exactly the same bytes (e.g. text start on a teacher without BOS).</summary>
    NoTeacherContext,
    /// <summary>The last position: it predicts nothing in this sequence.</summary>
    EndOfSequence,
}

/// <summary>
/// For every student position j (whose output predicts student token j+1): the teacher position
/// predicting the same event, i.e. the teacher token that starts at the same byte after exactly
/// the same consumed bytes, or -1 with the reason.
/// </summary>
public sealed record SequenceAlignment(int[] TeacherPosition, UnalignedReason[] Reasons)
{
    /// <summary>Positions that predict something (all but the last).</summary>
    public int Positions => Math.Max(0, TeacherPosition.Length - 1);

    public int Aligned => TeacherPosition.Count(p => p >= 0);

    public double Coverage => Positions == 0 ? 0 : (double)Aligned / Positions;
}

/// <summary>Aligns two tokenizations of one text by UTF-8 byte offsets, in one two-pointer pass.</summary>
public static class SequenceAligner
{
    public static SequenceAlignment Align(TokenEncoding student, HfTokenizer studentTokenizer, TokenEncoding teacher, HfTokenizer teacherTokenizer)
    {
        var n = student.Count;
        var positions = new int[n];
        var reasons = new UnalignedReason[n];
        Array.Fill(positions, -1);
        if (n == 0) return new SequenceAlignment(positions, reasons);
        reasons[n - 1] = UnalignedReason.EndOfSequence;

        var t = 0;   // teacher token compared; it is predicted by teacher position t - 1 (none for t = 0)
        for (var j = 0; j + 1 < n; j++)
        {
            var next = j + 1;
            var id = student.Ids[next];
            var (start, end) = student.ByteOffsets[next];
            if (studentTokenizer.IsSpecial(id) || end == start && IsRoleToken(studentTokenizer, id))
            {
                var match = MatchRole(studentTokenizer, id, teacher, teacherTokenizer, start);
                positions[j] = match;
                reasons[j] = match >= 0 ? UnalignedReason.None : UnalignedReason.SpecialToken;
                continue;
            }
            if (end == start) { reasons[j] = UnalignedReason.ZeroWidthToken; continue; }

            // Non-empty ordinary tokens tile the text in order, so the first such teacher token that
            // ends after `start` either starts there (aligned) or straddles it (inside a token).
            while (t < teacher.Count && (IsEmptyOrSpecial(teacher, teacherTokenizer, t) || teacher.ByteOffsets[t].End <= start)) t++;
            var teacherStart = t < teacher.Count ? teacher.ByteOffsets[t].Start : int.MaxValue;
            if (teacherStart == start && t > 0) positions[j] = t - 1;
            else reasons[j] = teacherStart < start ? UnalignedReason.InsideTeacherToken : UnalignedReason.NoTeacherContext;
        }
        return new SequenceAlignment(positions, reasons);
    }

    private static bool IsEmptyOrSpecial(TokenEncoding e, HfTokenizer tok, int i) =>
        e.ByteOffsets[i].Start == e.ByteOffsets[i].End || tok.IsSpecial(e.Ids[i]);

    private static bool IsRoleToken(HfTokenizer tok, int id) =>
        id == tok.Roles.Bos || id == tok.Roles.Eos || id == tok.Roles.Pad;

    // Special tokens correspond across vocabularies by role (EOS ↔ EOS), never by their text.
    private static int MatchRole(HfTokenizer studentTok, int studentId, TokenEncoding teacher, HfTokenizer teacherTok, int bytePosition)
    {
        var wanted = studentId == studentTok.Roles.Eos ? teacherTok.Roles.Eos
            : studentId == studentTok.Roles.Bos ? teacherTok.Roles.Bos
            : studentId == studentTok.Roles.Pad ? teacherTok.Roles.Pad
            : -1;
        if (wanted < 0) return -1;
        for (var i = 1; i < teacher.Count; i++)
            if (teacher.Ids[i] == wanted && teacher.ByteOffsets[i].Start == bytePosition) return i - 1;
        return -1;
    }
}
