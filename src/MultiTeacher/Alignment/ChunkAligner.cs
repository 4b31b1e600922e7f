using MultiTeacher.Tokenization;

namespace MultiTeacher.Alignment;

/// <summary>Whether a chunk's likelihood can be compared between the two sides.</summary>
public enum ChunkStatus : byte
{
    /// <summary>Every token of the chunk on both sides has a position before it that predicts it.</summary>
    Scored = 0,
    /// <summary>The chunk holds a side's very first token (no BOS before it), whose probability no position gives.</summary>
    NoContext,
    /// <summary>The bytes after the last common boundary of a window cut mid-way: no side closes them.</summary>
    Truncated,
}

/// <summary>
/// Bytes [ByteStart, ByteEnd) of the text and the whole tokens spelling exactly them: student tokens
/// [StudentStart, StudentEnd) and teacher tokens [TeacherStart, TeacherEnd), as indices into each
/// side's <see cref="TokenEncoding"/>. Token i is predicted by output position i - 1.
/// </summary>
public readonly record struct ByteChunk(int ByteStart, int ByteEnd, int StudentStart, int StudentEnd, int TeacherStart, int TeacherEnd, ChunkStatus Status)
{
    public int Bytes => ByteEnd - ByteStart;
}

/// <summary>The chunks of one text in order; together they cover every byte of both windows once.</summary>
public sealed record ChunkAlignment(ByteChunk[] Chunks, int Bytes)
{
    public int CoveredBytes => Chunks.Where(c => c.Status == ChunkStatus.Scored).Sum(c => c.Bytes);

    /// <summary>Bytes inside scored chunks over all bytes of the windows: what likelihood matching trains on.</summary>
    public double Coverage => Bytes == 0 ? 0 : CoveredBytes / (double)Bytes;

    public IEnumerable<ByteChunk> Scored => Chunks.Where(c => c.Status == ChunkStatus.Scored);
}

/// <summary>
/// Cuts two tokenizations of one text into chunks that end wherever both end a token on the same
/// byte (the chunks of approximate likelihood matching), in one pass over cumulative byte ends.
/// Template tokens (BOS before the text, EOS after it) belong to no chunk: BOS is context, EOS
/// predicts nothing about the text. Other tokens that cover no byte (a dummy-prefix marker) join
/// the chunk of the token after them, since the model spends probability on them on the way there.
/// </summary>
public static class ChunkAligner
{
    public static ChunkAlignment Align(TokenEncoding student, HfTokenizer studentTokenizer, TokenEncoding teacher, HfTokenizer teacherTokenizer)
    {
        var (sFirst, sEnd) = ContentRange(student, studentTokenizer);
        var (tFirst, tEnd) = ContentRange(teacher, teacherTokenizer);
        var chunks = new List<ByteChunk>();
        if (sFirst >= sEnd && tFirst >= tEnd) return new ChunkAlignment([], 0);

        var si = NextNonEmpty(student, sFirst, sEnd);
        var ti = NextNonEmpty(teacher, tFirst, tEnd);
        var first = Math.Min(si < sEnd ? student.ByteOffsets[si].Start : int.MaxValue, ti < tEnd ? teacher.ByteOffsets[ti].Start : int.MaxValue);
        var last = Math.Max(sEnd > sFirst ? student.ByteOffsets[sEnd - 1].End : 0, tEnd > tFirst ? teacher.ByteOffsets[tEnd - 1].End : 0);
        var (byteStart, cs, ct) = (first, sFirst, tFirst);
        while (si < sEnd && ti < tEnd)
        {
            var (se, te) = (student.ByteOffsets[si].End, teacher.ByteOffsets[ti].End);
            if (se == te)
            {
                var status = cs == 0 || ct == 0 ? ChunkStatus.NoContext : ChunkStatus.Scored;
                chunks.Add(new ByteChunk(byteStart, se, cs, si + 1, ct, ti + 1, status));
                (byteStart, cs, ct) = (se, si + 1, ti + 1);
                si = NextNonEmpty(student, si + 1, sEnd);
                ti = NextNonEmpty(teacher, ti + 1, tEnd);
            }
            else if (se < te) si = NextNonEmpty(student, si + 1, sEnd);
            else ti = NextNonEmpty(teacher, ti + 1, tEnd);
        }
        if (byteStart < last)
            chunks.Add(new ByteChunk(byteStart, last, cs, Math.Max(cs, sEnd), ct, Math.Max(ct, tEnd), ChunkStatus.Truncated));
        return new ChunkAlignment([.. chunks], last - first);
    }

    // [first, end): from the first token that is not a leading template token to just after the last
    // token that covers a byte.
    private static (int First, int End) ContentRange(TokenEncoding e, HfTokenizer tok)
    {
        var first = 0;
        while (first < e.Count && IsTemplate(e, tok, first)) first++;
        var end = e.Count;
        while (end > first && e.ByteOffsets[end - 1].End == e.ByteOffsets[end - 1].Start) end--;
        return (first, end);
    }

    private static bool IsTemplate(TokenEncoding e, HfTokenizer tok, int i)
    {
        if (e.ByteOffsets[i].End != e.ByteOffsets[i].Start) return false;
        var id = e.Ids[i];
        return tok.IsSpecial(id) || id == tok.Roles.Bos || id == tok.Roles.Eos || id == tok.Roles.Pad;
    }

    private static int NextNonEmpty(TokenEncoding e, int i, int end)
    {
        while (i < end && e.ByteOffsets[i].End == e.ByteOffsets[i].Start) i++;
        return i;
    }
}
