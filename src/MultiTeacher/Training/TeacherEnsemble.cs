using MultiTeacher.Alignment;
using MultiTeacher.Mixing;
using MultiTeacher.Models;
using MultiTeacher.Tokenization;
using static TorchSharp.torch;

namespace MultiTeacher.Training;

/// <summary>A teacher ready to run: its model, tokenizer and projection into the student vocabulary.</summary>
public sealed record Teacher(string Name, CausalLM Model, HfTokenizer Tokenizer, VocabularyProjection Projection);

/// <summary>The teachers' view of one batch: the mixing input over every position at least one teacher covers.</summary>
public sealed record TeacherBatch(MixingInput Input, long[] Positions, double[] Coverage);

/// <summary>
/// Runs the teachers on a batch of student samples (online distillation): each teacher tokenizes
/// the same text, predicts, keeps its top-k per position, and every student position aligned to it
/// (same byte, same consumed text) receives that row projected into the student vocabulary.
/// </summary>
public static class TeacherEnsemble
{
    /// <param name="studentEncodings">Per sample, the student's encoding (ids and byte offsets), at most T + 1 tokens.</param>
    /// <param name="gold">Student next-token ids (B, T): the gold token at each student position, -100 on padding.</param>
    public static TeacherBatch Run(IReadOnlyList<Teacher> teachers, HfTokenizer student, IReadOnlyList<(string Text, TokenEncoding Encoding)> samples,
        int sequenceLength, int topK, TailTreatment tail, Tensor gold)
    {
        var studentVocab = teachers[0].Projection.StudentVocabSize;
        var rowsByTeacher = new Dictionary<long, float[]>[teachers.Count];
        var coverage = new double[teachers.Count];
        var positions = new SortedSet<long>();
        for (var k = 0; k < teachers.Count; k++)
        {
            var (rows, aligned, total) = TeacherRows(teachers[k], student, samples, sequenceLength, topK, tail, studentVocab);
            rowsByTeacher[k] = rows;
            coverage[k] = total == 0 ? 0 : (double)aligned / total;
            positions.UnionWith(rows.Keys);
        }

        var order = positions.ToArray();   // flat student positions b * T + j
        var n = order.Length;
        var flat = new float[(long)teachers.Count * n * studentVocab];
        var isPresent = new bool[teachers.Count * n];
        for (var k = 0; k < teachers.Count; k++)
            for (var p = 0; p < n; p++)
                if (rowsByTeacher[k].TryGetValue(order[p], out var row))
                {
                    Array.Copy(row, 0, flat, ((long)k * n + p) * studentVocab, studentVocab);
                    isPresent[k * n + p] = true;
                }
        var distributions = tensor(flat, [teachers.Count, n, studentVocab]);           // (K, N, V)
        var present = tensor(isPresent, [teachers.Count, n]);                          // (K, N)
        var index = tensor(order);                                                        // (N)
        var goldAt = gold.flatten().index_select(0, index).clamp_min(0);                  // (N)
        var goldLogProb = distributions.gather(2, goldAt.view(1, n, 1).expand(teachers.Count, n, 1)).squeeze(2).clamp_min(1e-10).log();
        var sequence = index.div(sequenceLength, rounding_mode: RoundingMode.floor);
        return new TeacherBatch(new MixingInput(distributions, present, goldLogProb, sequence), order, coverage);
    }

    private static (Dictionary<long, float[]> Rows, long Aligned, long Total) TeacherRows(Teacher teacher, HfTokenizer student,
        IReadOnlyList<(string Text, TokenEncoding Encoding)> samples, int sequenceLength, int topK, TailTreatment tail, int studentVocab)
    {
        using var scope = NewDisposeScope();
        var encodings = samples.Select(s => teacher.Tokenizer.Encode(s.Text)).ToList();
        var length = encodings.Max(e => e.Count);
        var ids = zeros(samples.Count, length, dtype: ScalarType.Int64);                   // (B, Tt), padded at the end
        for (var b = 0; b < samples.Count; b++)
            ids[b, ..encodings[b].Count] = tensor(encodings[b].Ids.Select(i => (long)i).ToArray());
        Tensor logProbs;
        using (no_grad())
            logProbs = nn.functional.log_softmax(teacher.Model.forward(ids.to(teacher.Model.parameters().First().device)).to(float32).cpu(), -1);   // (B, Tt, Vt)
        var k = (int)Math.Min(topK, logProbs.shape[^1]);
        var (values, indices) = logProbs.topk(k, dim: -1);                                  // (B, Tt, k)
        var valuesArray = values.contiguous().data<float>().ToArray();
        var indicesArray = indices.to(ScalarType.Int32).contiguous().data<int>().ToArray();

        var picks = new List<(long Flat, int Offset)>();
        long total = 0;
        for (var b = 0; b < samples.Count; b++)
        {
            var studentEncoding = samples[b].Encoding;
            var alignment = SequenceAligner.Align(studentEncoding, student, encodings[b], teacher.Tokenizer);
            for (var j = 0; j < Math.Min(alignment.Positions, sequenceLength); j++)
            {
                total++;
                if (alignment.TeacherPosition[j] is var i and >= 0) picks.Add((b * (long)sequenceLength + j, (b * length + i) * k));
            }
        }

        var rows = TopKRows.Create(picks.Count, k);
        for (var r = 0; r < picks.Count; r++)
        {
            Array.Copy(valuesArray, picks[r].Offset, rows.LogProbs, r * k, k);
            Array.Copy(indicesArray, picks[r].Offset, rows.Ids, r * k, k);
            var kept = 0.0;
            for (var c = 0; c < k; c++) kept += Math.Exp(rows.LogProbs[r * k + c]);
            rows.TailMass[r] = (float)Math.Max(0, 1 - kept);
        }
        var projected = TopKProjector.Project(rows, teacher.Projection, tail);
        var result = new Dictionary<long, float[]>(picks.Count);
        for (var r = 0; r < picks.Count; r++)
        {
            var dense = new float[studentVocab];
            projected.Densify(r, dense);
            result[picks[r].Flat] = dense;
        }
        return (result, picks.Count, total);
    }
}
