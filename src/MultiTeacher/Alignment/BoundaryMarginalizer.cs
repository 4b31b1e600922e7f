using System.Collections.Concurrent;
using MultiTeacher.Tokenization;

namespace MultiTeacher.Alignment;

/// <summary>What a foreign teacher's prediction at an aligned position is taken to assume about its last token.</summary>
public enum BoundaryTreatment
{
    /// <summary>
    /// The teacher's row as it is: conditioned on its own last token ending exactly where the
    /// student's does, which tells it that the word did not go on in any way its vocabulary
    /// would have written as one longer token.
    /// </summary>
    Assumed,
    /// <summary>
    /// The row mixed with the teacher's other readings of the same bytes one step back: every token
    /// at the previous position that extends the observed last token, where the student's tokenizer
    /// splits that text at the same byte, sends its probability to the student token that follows
    /// the split (<see cref="BoundaryMarginalizer"/>).
    /// </summary>
    Marginalized,
}

/// <summary>Per aligned position: the teacher's row one position back, the teacher token it saw there, and the student's last token.</summary>
public sealed record PreviousRows(TopKRows Rows, int[] Observed, int[] StudentLast);

/// <summary>
/// Removes the bias of conditioning a foreign teacher on its own token boundary. At a student
/// position aligned to teacher position p, the teacher's last token u ends where the student's
/// last token w does; its row predicts what follows given that u ended there. The bytes seen so
/// far are also consistent with the teacher having written a longer token v ⊃ u at that step
/// (probability q(v) at position p − 1), in which case the student's next token is the one its
/// tokenizer writes after w for the bytes of v beyond u. Marginalising over that step:
/// target = (q(u)·row_p + Σ_v q(v)·δ_next(w,u,v)) / (q(u) + Σ_v q(v)),
/// the sum over the previous row's tokens v for which the student's tokenizer keeps w whole
/// (so v is a continuation the student could meet at this very position).
/// </summary>
public static class BoundaryMarginalizer
{
    /// <summary>Extension entries kept per row, the most probable first (the previous row is in decreasing order).</summary>
    public const int MaxExtensions = 64;

    /// <summary>The mean over rows of the mass <see cref="Apply"/> gave to extensions: the columns past the projected row's <paramref name="k"/>.</summary>
    public static double MeanMoved(ProjectedRows marginalized, int k)
    {
        if (marginalized.Rows == 0) return 0;
        var moved = 0.0;
        for (var r = 0; r < marginalized.Rows; r++)
            for (var i = r * marginalized.K + k; i < (r + 1) * marginalized.K; i++) moved += marginalized.Probs[i];
        return moved / marginalized.Rows;
    }

    /// <param name="projected">The teacher's rows at the aligned positions, already in the student vocabulary.</param>
    /// <param name="previous">Per row, the teacher's top-k one position back (Observed −1: no previous step, row left as it is).</param>
    /// <param name="next">(w, u, v) → the student token after w when the teacher wrote v instead of u, or −1 where v does not extend u or the student would not split there.</param>
    public static ProjectedRows Apply(ProjectedRows projected, PreviousRows previous, Func<int, int, int, int> next)
    {
        var (rows, k) = (projected.Rows, projected.K);
        var width = k + MaxExtensions;
        var ids = new int[rows * width];
        var probs = new float[rows * width];
        var tail = new float[rows];
        var pk = previous.Rows.K;
        Parallel.For(0, rows, r =>
        {
            var scale = 1.0;
            var extensions = 0;
            var observed = previous.Observed[r];
            if (observed >= 0)
            {
                var qu = 0.0;
                var found = new List<(int Student, double Mass)>();
                for (var i = r * pk; i < (r + 1) * pk; i++)
                {
                    var logProb = previous.Rows.LogProbs[i];
                    if (!float.IsFinite(logProb)) continue;
                    var v = previous.Rows.Ids[i];
                    if (v == observed) { qu = Math.Exp(logProb); continue; }
                    if (found.Count == MaxExtensions) continue;
                    var student = next(previous.StudentLast[r], observed, v);
                    if (student >= 0) found.Add((student, Math.Exp(logProb)));
                }
                // Without u's own probability the two readings cannot be weighed: the row stays as it is.
                if (qu > 0 && found.Count > 0)
                {
                    var z = qu + found.Sum(f => f.Mass);
                    scale = qu / z;
                    foreach (var (student, mass) in found)
                    {
                        ids[r * width + k + extensions] = student;
                        probs[r * width + k + extensions] = (float)(mass / z);
                        extensions++;
                    }
                }
            }
            for (var i = 0; i < k; i++)
            {
                ids[r * width + i] = projected.Ids[r * k + i];
                probs[r * width + i] = (float)(projected.Probs[r * k + i] * scale);
            }
            tail[r] = (float)(projected.Tail[r] * scale);
        });
        return new ProjectedRows(rows, width, projected.StudentVocabSize, ids, probs, tail);
    }
}

/// <summary>
/// The tokenizer side of <see cref="BoundaryMarginalizer"/> for one teacher and student: whether
/// teacher token v extends u, and which student token follows w when the student's tokenizer
/// writes w's bytes followed by v's bytes beyond u (mid-text), provided it keeps w whole.
/// Answers are remembered per (w, u, v).
/// </summary>
public sealed class TokenExtensions(HfTokenizer teacher, HfTokenizer student)
{
    private readonly ConcurrentDictionary<(int, int, int), int> _known = new();

    public int Next(int studentLast, int observed, int candidate)
    {
        if (teacher.IsSpecial(candidate) || teacher.IsSpecial(observed) || student.IsSpecial(studentLast)) return -1;
        if ((uint)candidate >= (uint)teacher.VocabSize || teacher.TokenText(candidate) is null) return -1;
        var u = teacher.TokenBytes(observed);
        var v = teacher.TokenBytes(candidate);
        if (u.IsEmpty || v.Length <= u.Length || !v.StartsWith(u)) return -1;
        return _known.GetOrAdd((studentLast, observed, candidate), key => Split(key.Item1, key.Item2, key.Item3));
    }

    private int Split(int studentLast, int observed, int candidate)
    {
        var w = student.TokenBytes(studentLast);
        if (w.IsEmpty) return -1;
        var rest = teacher.TokenBytes(candidate)[teacher.TokenBytes(observed).Length..];
        var bytes = new byte[w.Length + rest.Length];
        w.CopyTo(bytes);
        rest.CopyTo(bytes.AsSpan(w.Length));
        return student.EncodeBytesMidText(bytes) is [var first, var second, ..] && first == studentLast ? second : -1;
    }
}
