using MultiTeacher.Alignment;
using MultiTeacher.Cache;
using MultiTeacher.Losses;
using MultiTeacher.Mixing;
using MultiTeacher.Teachers;
using MultiTeacher.Tokenization;
using static TorchSharp.torch;

namespace MultiTeacher.Training;

/// <summary>
/// One batch's per-teacher distillation terms: Terms, each teacher's own term (its mean over its
/// chunks or positions); Weighted, the same with each chunk or position weighed by its sequence's
/// weight (in the graph of the student's logits); Weights, each teacher's mean weight over the
/// batch's sequences; Coverage, bytes inside scored chunks for alm, aligned positions for uld;
/// BitsPerByte, each teacher's bits per byte on the scored text (alm only, NaN where it scored none);
/// Merged, the share of each teacher's scored chunks that γ joined to the next one (alm only).
/// </summary>
public sealed record TeacherTerms(Tensor[] Terms, Tensor[] Weighted, double[] Weights, double[] Coverage, double[]? BitsPerByte = null, double[]? Merged = null)
{
    /// <summary>Σ_k Weighted_k; with weights constant over the sequences, Σ_k w_k · term_k.</summary>
    public Tensor Combined()
    {
        var total = Weighted[0];
        for (var k = 1; k < Weighted.Length; k++) total = total + Weighted[k];
        return total;
    }
}

/// <summary>
/// The objectives where every teacher contributes its own term and no distribution is blended or
/// projected (loss.kind alm or uld). Each teacher reads the batch's texts in its own tokenization.
/// alm: the student's window is chunked against the teacher's encoding (<see cref="ChunkAligner"/>),
/// the teacher's <see cref="AlmPosition"/> records come from its alm cache or from running it now,
/// and <see cref="AlmLoss"/> compares chunk likelihoods. uld: <see cref="UldLoss"/> over the
/// teacher's own top-k at the student positions aligned to it. Terms are weighed per sequence by
/// <see cref="TermWeights"/> from the mixing settings: fixed weights, or for alm each teacher's bits
/// per byte and chunk confidence on the sequence (<see cref="AlmChunkPlan.Scores"/>), which every
/// vocabulary measures alike.
/// </summary>
public sealed class CrossTokenizerTerms : IDisposable
{
    private readonly HfTokenizer _student;
    private readonly LossSettings _loss;
    private readonly AlmSettings _alm;
    private readonly MixingSettings _mixing;
    private readonly Tensor _studentBoundaryIds;
    private readonly Dictionary<string, Tensor> _teacherBoundary = new(StringComparer.Ordinal);
    private readonly int _topK;

    /// <param name="studentVocabulary">The student model's output size (its boundary mask is padded to it).</param>
    /// <param name="topK">Entries per position of teachers run online for uld.</param>
    public CrossTokenizerTerms(HfTokenizer student, int studentVocabulary, LossSettings loss, MixingSettings mixing, int topK)
    {
        if (!loss.PerTeacher) throw new ArgumentException($"loss kind {loss.Kind} blends the teachers; it has no per-teacher terms", nameof(loss));
        if (loss.Kind == LossKind.Uld && TermWeights.ReadsLikelihood(mixing))
            throw new ArgumentException($"mixing policy {Settings.SettingNames.Of(mixing.Policy)} or gating needs the teachers' likelihood of the text, which uld does not read", nameof(mixing));
        (_student, _loss, _mixing, _topK) = (student, loss, mixing, topK);
        _alm = new AlmSettings(loss.AlmTemperature, loss.AlmGamma, loss.AlmDebias);
        using (var mask = tensor(BoundaryMask.For(student, studentVocabulary))) _studentBoundaryIds = AlmStudentSide.BoundaryIds(mask).DetachFromDisposeScope();
    }

    /// <summary>
    /// The terms of one batch. <paramref name="studentLogits"/> (B·T, V) are the student's outputs
    /// for the first T tokens of each sample, row b·T + j predicting token j + 1 of sample b.
    /// </summary>
    public TeacherTerms Compute(Tensor studentLogits, IReadOnlyList<SampleView> samples, int sequenceLength, IReadOnlyList<Teacher> teachers)
    {
        var fixedWeights = teachers.Select(t => t.Spec.Weight).ToArray();
        if (_loss.Kind == LossKind.Uld)
        {
            var uld = teachers.Select(t => Uld(studentLogits, samples, sequenceLength, t)).ToArray();
            // uld reads no likelihood of the text: its weights are the same for every sequence.
            var fixedW = TermWeights.Compute(_mixing, fixedWeights, 1, null).Select(w => w[0]).ToArray();
            return new TeacherTerms(uld.Select(u => u.Term).ToArray(), uld.Select((u, k) => u.Term * fixedW[k]).ToArray(), fixedW, uld.Select(u => u.Coverage).ToArray());
        }
        var logProbs = nn.functional.log_softmax(studentLogits, -1);
        var plans = teachers.Select(t => Plan(samples, sequenceLength, t)).ToArray();
        var scores = plans.Select(p => p.Scores()).ToArray();
        var weights = TermWeights.Compute(_mixing, fixedWeights, samples.Count, scores);
        var side = AlmStudentSide.For(logProbs, plans, _studentBoundaryIds);
        var terms = new Tensor[teachers.Count];
        var weighted = new Tensor[teachers.Count];
        for (var k = 0; k < teachers.Count; k++)
        {
            if (plans[k].Chunks == 0)
            {
                terms[k] = weighted[k] = logProbs.sum() * 0;
                continue;
            }
            var chunks = AlmLoss.PerChunk(side, plans[k]);                                                                  // (C)
            terms[k] = chunks.mean().to(logProbs.dtype);
            weighted[k] = AlmLoss.Weighted(chunks, plans[k], weights[k]).to(logProbs.dtype);
        }
        return new TeacherTerms(terms, weighted, weights.Select(w => w.Length == 0 ? 0 : w.Average()).ToArray(),
            plans.Select(p => p.Coverage).ToArray(), scores.Select(BitsPerByte).ToArray(), plans.Select(p => p.Merged).ToArray());
    }

    /// <summary>Bits per byte over all scored bytes of the batch: Σ_s bytes_s · bpb_s / Σ_s bytes_s.</summary>
    private static double BitsPerByte(SequenceScore[] scores)
    {
        var bytes = scores.Sum(s => s.Bytes);
        return bytes == 0 ? double.NaN : scores.Where(s => s.Scored).Sum(s => s.Bytes * s.BitsPerByte) / bytes;
    }

    private AlmChunkPlan Plan(IReadOnlyList<SampleView> samples, int sequenceLength, Teacher teacher)
    {
        var encodings = samples.Select(s => teacher.Tokenizer.Encode(s.Text)).ToList();
        var records = teacher.Alm is { } cache ? Cached(cache, samples, encodings) : Online(teacher, encodings);
        var plan = new AlmChunkPlan(_alm);
        for (var b = 0; b < samples.Count; b++)
        {
            // Only the first T student tokens: token T is predicted by the last output, but a chunk ending
            // there would need the boundary probability after it, which no output gives.
            var window = samples[b].Encoding.Take(sequenceLength);
            plan.Add(ChunkAligner.Align(window, _student, encodings[b], teacher.Tokenizer), window.Ids, records[b], (long)b * sequenceLength);
        }
        return plan;
    }

    private static AlmPosition[][] Cached(AlmCache cache, IReadOnlyList<SampleView> samples, IReadOnlyList<TokenEncoding> encodings)
    {
        var records = samples.Select(s => cache.Read(s.Index)).ToArray();
        for (var b = 0; b < samples.Count; b++)
            if (records[b].Length != encodings[b].Count)
                throw new InvalidDataException($"alm cache holds {records[b].Length} positions for sample {samples[b].Index}, the tokenizer gives {encodings[b].Count}");
        return records;
    }

    private AlmPosition[][] Online(Teacher teacher, IReadOnlyList<TokenEncoding> encodings)
    {
        if (!_teacherBoundary.TryGetValue(teacher.Name, out var mask))
            _teacherBoundary[teacher.Name] = mask = tensor(BoundaryMask.For(teacher.Tokenizer, teacher.Model.Config.VocabSize)).DetachFromDisposeScope();
        return AlmCaches.Records(teacher.Model, encodings.Select(e => e.Ids).ToList(), mask);
    }

    private (Tensor Term, double Coverage) Uld(Tensor studentLogits, IReadOnlyList<SampleView> samples, int sequenceLength, Teacher teacher)
    {
        var aligned = TeacherEnsemble.AlignedRows(teacher, _student, samples, sequenceLength, _topK);
        var rows = aligned.Rows;
        var positions = new CachedPosition[rows.Rows];
        for (var r = 0; r < rows.Rows; r++)
        {
            // Pruned entries (probability 0) leave the head; UldLoss spreads the tail over every token outside it.
            var kept = Enumerable.Range(r * rows.K, rows.K).Where(i => float.IsFinite(rows.LogProbs[i])).ToArray();
            positions[r] = new CachedPosition(kept.Select(i => rows.Ids[i]).ToArray(), kept.Select(i => rows.LogProbs[i]).ToArray(), rows.TailMass[r]);
        }
        var studentRows = studentLogits.index_select(0, tensor(aligned.Positions, device: studentLogits.device));      // (N, V)
        var coverage = aligned.Total == 0 ? 0 : aligned.Positions.Length / (double)aligned.Total;
        return (UldLoss.Compute(studentRows, positions, teacher.Model.Config.VocabSize), coverage);
    }

    /// <summary>
    /// α·CE + (1−α)·distillation, or with loss.balance the two weighed by the inverse of their
    /// gradient norms on the student's last decoder layer (<see cref="GradientBalance"/>).
    /// </summary>
    public static Tensor Total(Tensor hardLabelCe, Tensor distillation, LossSettings loss, Models.CausalLM student)
    {
        if (!loss.Balance) return DistillationLoss.Combine(hardLabelCe, distillation, loss.HardLabelWeight);
        var last = $"model.layers.{student.Config.NumHiddenLayers - 1}.";
        var parameters = student.named_parameters().Where(p => p.name.StartsWith(last, StringComparison.Ordinal)).Select(p => p.parameter).ToList();
        return GradientBalance.Combine([hardLabelCe, distillation], [.. parameters], out _);
    }

    public void Dispose()
    {
        _studentBoundaryIds.Dispose();
        foreach (var mask in _teacherBoundary.Values) mask.Dispose();
    }
}
