using MultiTeacher.Cache;
using static TorchSharp.torch;

namespace MultiTeacher.Training;

/// <summary>
/// Universal logit distillation (Boizard et al. 2024, "Towards Cross-Tokenizer Distillation: the
/// Universal Logit Distillation Loss"): at each aligned position, the Wasserstein-1 distance
/// between the two next-token distributions under a cost that ignores token identity, which is the
/// L1 distance between the probability vectors sorted in decreasing order, the shorter padded with
/// zeros: Σ_i |p_S(σ_S(i)) − p_T(σ_T(i))|. It needs no vocabulary mapping, only aligned positions
/// (<see cref="Alignment.SequenceAligner"/>). The teacher comes from its cache: its kept entries,
/// then its tail mass spread evenly over the rest of its vocabulary (each tail token is at most the
/// smallest kept probability, so their mean keeps the vector sorted). Gradients reach the student
/// through the sort. Mean over positions.
/// </summary>
public static class UldLoss
{
    /// <summary>
    /// studentLogits (N, V_S) at the aligned rows; teacherHead (N, K) the teacher's K largest
    /// probabilities per row, in any order; teacherRest (N) the probability of each of its
    /// remaining V_T − K tokens, at most the smallest of the head (as for any top-K), so the
    /// teacher's sorted vector is the sorted head followed by V_T − K copies of it.
    /// </summary>
    public static Tensor Compute(Tensor studentLogits, Tensor teacherHead, Tensor teacherRest, int teacherVocabulary)
    {
        using var scope = NewDisposeScope();
        var (n, vs, k) = (studentLogits.shape[0], studentLogits.shape[1], teacherHead.shape[1]);
        if (k > teacherVocabulary) throw new ArgumentException($"the teacher's head ({k}) is larger than its vocabulary ({teacherVocabulary})");
        var s = nn.functional.softmax(studentLogits, -1).sort(-1, descending: true).Values;                 // (N, V_S)
        if (vs < k) s = nn.functional.pad(s, [0, k - vs]);
        var head = teacherHead.to(s.dtype).to(s.device).sort(-1, descending: true).Values;                  // (N, K)
        var rest = teacherRest.to(s.dtype).to(s.device).unsqueeze(1);                                       // (N, 1)
        var distance = (s[.., ..(int)k] - head).abs().sum(-1);
        var both = Math.Min(s.shape[1], teacherVocabulary);
        if (both > k) distance += (s[.., (int)k..(int)both] - rest).abs().sum(-1);                         // student vs the teacher's tail
        if (teacherVocabulary > both) distance += rest.squeeze(1) * (teacherVocabulary - both);            // the teacher's tail vs student padding
        if (s.shape[1] > teacherVocabulary) distance += s[.., teacherVocabulary..].sum(-1);                 // the student's tail vs teacher padding
        return (n == 0 ? studentLogits.sum() * 0 : distance.mean()).MoveToOuterDisposeScope();
    }

    /// <summary>The same with the teacher's rows as cached (kept entries and tail mass).</summary>
    public static Tensor Compute(Tensor studentLogits, IReadOnlyList<CachedPosition> teacher, int teacherVocabulary)
    {
        using var scope = NewDisposeScope();
        var k = teacher.Count == 0 ? 1 : teacher.Max(p => p.Ids.Length);
        var head = new double[teacher.Count * k];
        var rest = new double[teacher.Count];
        for (var r = 0; r < teacher.Count; r++)
        {
            var p = teacher[r];
            rest[r] = teacherVocabulary > p.Ids.Length ? p.Tail / (double)(teacherVocabulary - p.Ids.Length) : 0;
            for (var j = 0; j < k; j++) head[r * k + j] = j < p.LogProbs.Length ? Math.Exp(p.LogProbs[j]) : rest[r];
        }
        return Compute(studentLogits, tensor(head, [teacher.Count, k]), tensor(rest), teacherVocabulary).MoveToOuterDisposeScope();
    }
}
