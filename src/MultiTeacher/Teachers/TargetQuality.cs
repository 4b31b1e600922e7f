using MultiTeacher.Alignment;
using MultiTeacher.Models;
using MultiTeacher.Tokenization;
using static TorchSharp.torch;

namespace MultiTeacher.Teachers;

/// <summary>
/// How well a teacher's distillation target predicts the student's own next tokens: summed over the
/// student positions aligned to the teacher, −log₂ of the gold student token's probability under the
/// target as training builds it (the teacher's top-k projected into the student vocabulary, the tail
/// spread evenly over the tokens outside it) and under a reference student at the same positions.
/// A target that predicts the gold worse than the student itself has little to teach it.
/// </summary>
public sealed record TargetQuality(long Positions, double TargetBits, double StudentBits)
{
    public double TargetBitsPerToken => Positions == 0 ? double.NaN : TargetBits / Positions;
    public double StudentBitsPerToken => Positions == 0 ? double.NaN : StudentBits / Positions;

    /// <summary>
    /// Measures on each text (one sequence each, cut to <paramref name="maxStudentTokens"/> student
    /// tokens with the text they cover), running both models.
    /// </summary>
    public static TargetQuality Measure(CausalLM teacher, HfTokenizer teacherTokenizer, VocabularyProjection projection, int topK,
        CausalLM student, HfTokenizer studentTokenizer, IEnumerable<string> texts, int maxStudentTokens)
    {
        long positions = 0;
        double targetBits = 0, studentBits = 0;
        foreach (var whole in texts)
        {
            using var scope = NewDisposeScope();
            var text = Prefix(whole, studentTokenizer, maxStudentTokens);
            if (text.Length == 0) continue;
            var s = studentTokenizer.Encode(text);
            var t = teacherTokenizer.Encode(text);
            var alignment = SequenceAligner.Align(s, studentTokenizer, t, teacherTokenizer);
            var picks = Enumerable.Range(0, alignment.Positions).Where(j => alignment.TeacherPosition[j] >= 0).ToArray();
            if (picks.Length == 0) continue;

            var records = TeacherRecords.Compute(teacher, [t.Ids], topK);
            var rows = TopKRows.Create(picks.Length, records.K);
            for (var r = 0; r < picks.Length; r++)
            {
                var i = alignment.TeacherPosition[picks[r]];
                records.Ids(0, i).CopyTo(rows.Ids.AsSpan(r * rows.K));
                records.LogProbs(0, i).CopyTo(rows.LogProbs.AsSpan(r * rows.K));
                rows.TailMass[r] = records.Tail(0, i);
            }
            var projected = TopKProjector.Project(rows, projection, TailTreatment.Bucket);
            var studentLogProbs = TeacherForward.LogProbs(student, [s.Ids]);                                     // (1, T, V)
            var vocab = studentLogProbs.shape[^1];
            var flat = studentLogProbs.to(ScalarType.Float64).cpu().data<double>();
            for (var r = 0; r < picks.Length; r++)
            {
                var gold = s.Ids[picks[r] + 1];
                // The floor training's gold log-probabilities use: a tail rounded to zero in float32 costs 33 bits, not infinity.
                targetBits -= Math.Log2(Math.Max(GoldProbability(projected, r, gold), 1e-10));
                studentBits -= flat[picks[r] * vocab + gold] / Math.Log(2);
            }
            positions += picks.Length;
        }
        return new TargetQuality(positions, targetBits, studentBits);
    }

    /// <summary>Row <paramref name="r"/>'s probability of <paramref name="gold"/>: its entries on that token, else its share of the tail.</summary>
    public static double GoldProbability(ProjectedRows rows, int r, int gold)
    {
        var support = new HashSet<int>();
        double onGold = 0;
        for (var i = r * rows.K; i < (r + 1) * rows.K; i++)
        {
            if (rows.Probs[i] <= 0) continue;
            support.Add(rows.Ids[i]);
            if (rows.Ids[i] == gold) onGold += rows.Probs[i];
        }
        if (support.Contains(gold)) return onGold;
        return rows.Tail[r] / Math.Max(1, rows.StudentVocabSize - support.Count);
    }

    /// <summary>The text covered by its first <paramref name="tokens"/> student tokens (after any BOS).</summary>
    private static string Prefix(string text, HfTokenizer student, int tokens)
    {
        var encoding = student.Encode(text);
        if (encoding.Count <= tokens) return text;
        var end = encoding.Offsets[tokens - 1].End;
        return text[..end];
    }
}
