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
    /// tokens with the text they cover): the target comes from <see cref="TeacherEnsemble.Run"/>,
    /// the path training takes (the tail spread as <paramref name="tail"/> says, the boundary as <paramref name="boundary"/>), with the teacher run online.
    /// </summary>
    public static TargetQuality Measure(Teacher teacher, int topK, CausalLM student, HfTokenizer studentTokenizer, IEnumerable<string> texts, int maxStudentTokens, TailTreatment tail = TailTreatment.Bucket,
        BoundaryTreatment boundary = BoundaryTreatment.Assumed)
    {
        long positions = 0;
        double targetBits = 0, studentBits = 0;
        foreach (var whole in texts)
        {
            using var scope = NewDisposeScope();
            var text = Prefix(whole, studentTokenizer, maxStudentTokens);
            var s = studentTokenizer.Encode(text);
            var length = s.Count - 1;
            if (length < 1) continue;
            var gold = tensor(s.Ids[1..].Select(i => (long)i).ToArray()).reshape(1, length);
            var batch = TeacherEnsemble.Run([teacher with { Cache = null }], studentTokenizer, [new SampleView(0, text, s)], length, topK, tail, gold, boundary);
            if (batch.Positions.Length == 0) continue;
            var goldLogProb = batch.Input.GoldLogProb!.data<float>().ToArray();                                   // (1, N), natural log
            var studentLogProbs = TeacherForward.LogProbs(student, [s.Ids]);                                     // (1, T + 1, V)
            var vocab = studentLogProbs.shape[^1];
            var flat = studentLogProbs.to(ScalarType.Float64).cpu().data<double>();
            for (var p = 0; p < batch.Positions.Length; p++)
            {
                var j = batch.Positions[p];
                targetBits -= goldLogProb[p] / Math.Log(2);
                studentBits -= flat[j * vocab + s.Ids[j + 1]] / Math.Log(2);
            }
            positions += batch.Positions.Length;
        }
        return new TargetQuality(positions, targetBits, studentBits);
    }

    /// <summary>The text covered by its first <paramref name="tokens"/> student tokens (after any BOS).</summary>
    internal static string Prefix(string text, HfTokenizer student, int tokens)
    {
        var encoding = student.Encode(text);
        if (encoding.Count <= tokens) return text;
        var end = encoding.Offsets[tokens - 1].End;
        return text[..end];
    }
}
