using MultiTeacher.Alignment;
using MultiTeacher.Cache;
using MultiTeacher.Mixing;
using MultiTeacher.Models;
using MultiTeacher.Tokenization;
using static TorchSharp.torch;

namespace MultiTeacher.Teachers;

/// <summary>One training sample as the teachers see it: its index (for the cache), its text, the student's encoding.</summary>
public sealed record SampleView(int Index, string Text, TokenEncoding Encoding);

/// <summary>The teachers' view of one batch: the mixing input over every position at least one teacher covers.</summary>
public sealed record TeacherBatch(MixingInput Input, long[] Positions, double[] Coverage);

/// <summary>A teacher's top-k rows at the student positions aligned to it, and how many positions could have been.</summary>
public sealed record AlignedTeacherRows(long[] Positions, TopKRows Rows, long Total);

/// <summary>
/// Gives the teachers' view of a batch of student samples: each teacher tokenizes the same text,
/// its top-k per position comes from its cache (offline) or from running it now (online), and
/// every student position aligned to it (same byte, same consumed text) receives that row
/// projected into the student vocabulary.
/// </summary>
public static class TeacherEnsemble
{
    /// <param name="samples">Per sample: its index, text and the student's encoding (at most T + 1 tokens).</param>
    /// <param name="gold">Student next-token ids (B, T): the gold token at each student position, -100 on padding.</param>
    public static TeacherBatch Run(IReadOnlyList<Teacher> teachers, HfTokenizer student, IReadOnlyList<SampleView> samples,
        int sequenceLength, int topK, TailTreatment tail, Tensor gold)
    {
        var studentVocab = teachers[0].Projection.StudentVocabSize;
        var rowsByTeacher = new TeacherRows[teachers.Count];
        var coverage = new double[teachers.Count];
        var positions = new SortedSet<long>();
        for (var k = 0; k < teachers.Count; k++)
        {
            var (rows, aligned, total) = ProjectRows(teachers[k], student, samples, sequenceLength, topK, tail);
            rowsByTeacher[k] = rows;
            coverage[k] = total == 0 ? 0 : (double)aligned / total;
            positions.UnionWith(rows.Positions);
        }

        var order = positions.ToArray();   // flat student positions b * T + j
        var goldIds = gold.flatten().data<long>();
        var goldAt = order.Select(p => Math.Max(0, goldIds[p])).ToArray();
        var sequence = order.Select(p => p / sequenceLength).ToArray();
        var input = SupportAssembler.Assemble(rowsByTeacher, order, goldAt, sequence, studentVocab);
        return new TeacherBatch(input, order, coverage);
    }

    private static (TeacherRows Rows, long Aligned, long Total) ProjectRows(Teacher teacher, HfTokenizer student,
        IReadOnlyList<SampleView> samples, int sequenceLength, int topK, TailTreatment tail)
    {
        var aligned = AlignedRows(teacher, student, samples, sequenceLength, topK);
        return (new TeacherRows(aligned.Positions, TopKProjector.Project(aligned.Rows, teacher.Projection, tail)), aligned.Positions.Length, aligned.Total);
    }

    /// <summary>
    /// The teacher's own top-k rows (its ids, unprojected) at every student position aligned to one of
    /// its positions (and, with <see cref="Teacher.PositionsOf"/>, aligned to that tokenizer's too), from its cache or from running it now; <see cref="AlignedTeacherRows.Positions"/>
    /// are flat student positions b·T + j, <see cref="AlignedTeacherRows.Total"/> the positions that predict something.
    /// </summary>
    public static AlignedTeacherRows AlignedRows(Teacher teacher, HfTokenizer student, IReadOnlyList<SampleView> samples, int sequenceLength, int topK)
    {
        var encodings = samples.Select(s => teacher.Tokenizer.Encode(s.Text)).ToList();
        var picks = new List<(long Flat, int Sample, int Position)>();
        long total = 0;
        for (var b = 0; b < samples.Count; b++)
        {
            var alignment = SequenceAligner.Align(samples[b].Encoding, student, encodings[b], teacher.Tokenizer);
            var allowed = teacher.PositionsOf is { } other
                ? SequenceAligner.Align(samples[b].Encoding, student, other.Encode(samples[b].Text), other).TeacherPosition
                : null;
            for (var j = 0; j < Math.Min(alignment.Positions, sequenceLength); j++)
            {
                total++;
                if (alignment.TeacherPosition[j] is var i and >= 0 && (allowed is null || allowed[j] >= 0)) picks.Add((b * (long)sequenceLength + j, b, i));
            }
        }
        var k = teacher.Cache?.TopK ?? topK;
        var rows = TopKRows.Create(picks.Count, k);
        if (teacher.Cache is { } cache) FillFromCache(cache, samples, encodings, picks, rows);
        else FillFromModel(teacher.Model, encodings, picks, rows);
        return new AlignedTeacherRows(picks.Select(p => p.Flat).ToArray(), rows, total);
    }

    private static void FillFromCache(TeacherCache cache, IReadOnlyList<SampleView> samples, List<TokenEncoding> encodings,
        List<(long Flat, int Sample, int Position)> picks, TopKRows rows)
    {
        var stored = samples.Select(s => cache.Read(s.Index)).ToList();
        for (var b = 0; b < samples.Count; b++)
            if (stored[b].Count != encodings[b].Count)
                throw new InvalidDataException($"teacher cache holds {stored[b].Count} positions for sample {samples[b].Index}, the tokenizer gives {encodings[b].Count}");
        for (var r = 0; r < picks.Count; r++)
        {
            var p = stored[picks[r].Sample][picks[r].Position];
            var row = r * rows.K;
            rows.Ids.AsSpan(row, rows.K).Clear();
            rows.LogProbs.AsSpan(row, rows.K).Fill(float.NegativeInfinity);   // pruned entries: probability zero
            p.Ids.CopyTo(rows.Ids, row);
            p.LogProbs.CopyTo(rows.LogProbs, row);
            rows.TailMass[r] = p.Tail;
        }
    }

    private static void FillFromModel(CausalLM model, List<TokenEncoding> encodings, List<(long Flat, int Sample, int Position)> picks, TopKRows rows)
    {
        var records = TeacherRecords.Compute(model, encodings.Select(e => e.Ids).ToList(), rows.K);
        for (var r = 0; r < picks.Count; r++)
        {
            records.Ids(picks[r].Sample, picks[r].Position).CopyTo(rows.Ids.AsSpan(r * rows.K));
            records.LogProbs(picks[r].Sample, picks[r].Position).CopyTo(rows.LogProbs.AsSpan(r * rows.K));
            rows.TailMass[r] = records.Tail(picks[r].Sample, picks[r].Position);
        }
    }
}
