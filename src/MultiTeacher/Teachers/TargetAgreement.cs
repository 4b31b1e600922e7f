using MultiTeacher.Alignment;
using MultiTeacher.Models;
using MultiTeacher.Runtime;
using MultiTeacher.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace MultiTeacher.Teachers;

/// <summary>
/// How far a foreign teacher's full next-token distribution, carried into the student vocabulary by
/// a projection, is from a reference teacher's that shares the student's tokenizer, at the student
/// positions aligned to the foreign one; with a student's own distribution there as the yardstick.
/// Sums over positions, in bits: <see cref="Gold"/> −log₂ of the gold student token under each model,
/// over the <see cref="GoldReached"/> positions where the projection leaves the gold some foreign mass
/// (a student token no foreign token is sent to has probability zero there), <see cref="Entropy"/>
/// the entropy, <see cref="TotalVariation"/> and <see cref="JensenShannon"/> (β ½) between the two
/// teachers and between each and the student. <see cref="GoldMapped"/> counts the positions where the
/// projection sends the foreign tokenizer's own next token to the student's (the tokenizations agree
/// on the event, whatever the models predict).
/// </summary>
public sealed record TargetAgreement(long Positions, long GoldMapped, long GoldReached, (double Same, double Foreign, double Student) Gold,
    (double Same, double Foreign) Entropy, double TotalVariation, (double Twins, double SameStudent, double ForeignStudent) JensenShannon)
{
    public double Mean(double sum) => Positions == 0 ? double.NaN : sum / Positions;

    /// <summary>Mean bits of the gold under each model over the positions where the foreign target reaches it.</summary>
    public (double Same, double Foreign, double Student) GoldMean =>
        GoldReached == 0 ? (double.NaN, double.NaN, double.NaN) : (Gold.Same / GoldReached, Gold.Foreign / GoldReached, Gold.Student / GoldReached);

    /// <summary>
    /// Measures on each text cut to <paramref name="maxStudentTokens"/> student tokens: the three models
    /// run whole (full softmax, no top-k), the foreign rows summed into student ids by
    /// <paramref name="projection"/> (mass on unmapped ids dropped, so a row may sum to less than one).
    /// </summary>
    public static TargetAgreement Measure(CausalLM same, CausalLM foreign, HfTokenizer foreignTokenizer, VocabularyProjection projection,
        CausalLM student, HfTokenizer studentTokenizer, IEnumerable<string> texts, int maxStudentTokens)
    {
        var total = new TargetAgreement(0, 0, 0, (0, 0, 0), (0, 0), 0, (0, 0, 0));
        using var index = tensor(projection.Map.Select(m => m < 0 ? (long)projection.StudentVocabSize : m).ToArray());
        foreach (var whole in texts)
        {
            using var scope = NewDisposeScope();
            var text = TargetQuality.Prefix(whole, studentTokenizer, maxStudentTokens);
            var (s, f) = (studentTokenizer.Encode(text), foreignTokenizer.Encode(text));
            var alignment = SequenceAligner.Align(s, studentTokenizer, f, foreignTokenizer);
            var picks = Enumerable.Range(0, alignment.Positions).Where(j => alignment.TeacherPosition[j] >= 0).ToArray();
            if (picks.Length == 0) continue;
            var rows = tensor(picks.Select(j => (long)j).ToArray());
            var gold = picks.Select(j => (long)s.Ids[j + 1]).ToArray();
            var mapped = picks.LongCount(j => projection.Map[f.Ids[alignment.TeacherPosition[j] + 1]] == s.Ids[j + 1]);
            var p = TeacherForward.LogProbs(same, [s.Ids])[0].index_select(0, rows).to(float64).exp();
            var r = TeacherForward.LogProbs(student, [s.Ids])[0].index_select(0, rows).to(float64).exp();
            var foreignRows = tensor(picks.Select(j => (long)alignment.TeacherPosition[j]).ToArray());
            var full = TeacherForward.LogProbs(foreign, [f.Ids])[0].index_select(0, foreignRows).to(float64).exp();
            var q = Project(full, index, projection.StudentVocabSize);
            total = total.Plus(Sums(p, q, r, gold, mapped));
        }
        return total;
    }

    /// <summary>(N, V_teacher) probabilities summed into (N, V) by <paramref name="index"/> (V: dropped).</summary>
    /// <remarks>Every number handed to libtorch is a Scalar held for the whole call (<see cref="Scalars"/>).</remarks>
    private static Tensor Project(Tensor probs, Tensor index, int studentVocab)
    {
        using var dropped = ((long)studentVocab).ToScalar();
        var ids = index.shape[0] < probs.shape[1]
            ? cat([index, full([probs.shape[1] - index.shape[0]], dropped, ScalarType.Int64)])   // logit rows beyond the tokenizer (Qwen pads its embedding)
            : index.narrow(0, 0, probs.shape[1]);
        return zeros(probs.shape[0], studentVocab + 1, ScalarType.Float64).index_add_(1, ids, probs, Scalars.One).narrow(1, 0, studentVocab);
    }

    /// <summary>
    /// The figures of one batch of positions: <paramref name="same"/>, <paramref name="foreign"/> and
    /// <paramref name="student"/> (N, V) probabilities, <paramref name="gold"/> the gold ids.
    /// </summary>
    public static TargetAgreement Sums(Tensor same, Tensor foreign, Tensor student, long[] gold, long goldMapped)
    {
        using var scope = NewDisposeScope();
        var g = tensor(gold).unsqueeze(1);
        var reached = foreign.gather(1, g).gt(Scalars.Zero);
        double Bits(Tensor probs) => -where(reached, probs.gather(1, g).log2(), zeros_like(reached, ScalarType.Float64)).sum().item<double>();
        double H(Tensor probs) => -XLog2X(probs).sum().item<double>();
        double Js(Tensor a, Tensor b) => (H(a.add(b, Scalars.One).mul(Scalars.Half)) * 2 - H(a) - H(b)) / 2;
        return new TargetAgreement(gold.Length, goldMapped, reached.sum().item<long>(), (Bits(same), Bits(foreign), Bits(student)), (H(same), H(foreign)),
            same.add(foreign, Scalars.MinusOne).abs().sum().item<double>() / 2, (Js(same, foreign), Js(same, student), Js(foreign, student)));
    }

    private static Tensor XLog2X(Tensor p) => where(p.gt(Scalars.Zero), p.mul(p.log2()), zeros_like(p));

    private TargetAgreement Plus(TargetAgreement o) => new(Positions + o.Positions, GoldMapped + o.GoldMapped, GoldReached + o.GoldReached,
        (Gold.Same + o.Gold.Same, Gold.Foreign + o.Gold.Foreign, Gold.Student + o.Gold.Student), (Entropy.Same + o.Entropy.Same, Entropy.Foreign + o.Entropy.Foreign),
        TotalVariation + o.TotalVariation, (JensenShannon.Twins + o.JensenShannon.Twins, JensenShannon.SameStudent + o.JensenShannon.SameStudent, JensenShannon.ForeignStudent + o.JensenShannon.ForeignStudent));
}
