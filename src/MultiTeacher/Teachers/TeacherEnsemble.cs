using System.Runtime.CompilerServices;
using MultiTeacher.Alignment;
using MultiTeacher.Cache;
using MultiTeacher.Mixing;
using MultiTeacher.Models;
using MultiTeacher.Tokenization;
using static TorchSharp.torch;

namespace MultiTeacher.Teachers;

/// <summary>One training sample as the teachers see it: its index (for the cache), its text, the student's encoding.</summary>
public sealed record SampleView(int Index, string Text, TokenEncoding Encoding);

/// <summary>
/// The teachers' view of one batch: the mixing input over every position at least one teacher covers,
/// each teacher's coverage and, with alignment.boundary: marginalized, the mean share of its target
/// mass given to the longer readings of its last token (0 for a teacher sharing the student's tokenizer).
/// </summary>
public sealed record TeacherBatch(MixingInput Input, long[] Positions, double[] Coverage, double[]? Marginalized = null);

/// <summary>A teacher's top-k rows at the student positions aligned to it, how many positions could have been, and (when asked for) its rows one step back.</summary>
public sealed record AlignedTeacherRows(long[] Positions, TopKRows Rows, long Total, PreviousRows? Previous = null);

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
        int sequenceLength, int topK, TailTreatment tail, Tensor gold, BoundaryTreatment boundary = BoundaryTreatment.Assumed)
    {
        var studentVocab = teachers[0].Projection.StudentVocabSize;
        var rowsByTeacher = new TeacherRows[teachers.Count];
        var coverage = new double[teachers.Count];
        var marginalized = boundary == BoundaryTreatment.Marginalized ? new double[teachers.Count] : null;
        var positions = new SortedSet<long>();
        for (var k = 0; k < teachers.Count; k++)
        {
            var (rows, aligned, total, moved) = ProjectRows(teachers[k], student, samples, sequenceLength, topK, tail, boundary);
            rowsByTeacher[k] = rows;
            coverage[k] = total == 0 ? 0 : (double)aligned / total;
            if (marginalized is not null) marginalized[k] = moved;
            positions.UnionWith(rows.Positions);
        }

        var order = positions.ToArray();   // flat student positions b * T + j
        var goldIds = gold.flatten().data<long>();
        var goldAt = order.Select(p => Math.Max(0, goldIds[p])).ToArray();
        var sequence = order.Select(p => p / sequenceLength).ToArray();
        var input = SupportAssembler.Assemble(rowsByTeacher, order, goldAt, sequence, studentVocab);
        return new TeacherBatch(input, order, coverage, marginalized);
    }

    private static (TeacherRows Rows, long Aligned, long Total, double Moved) ProjectRows(Teacher teacher, HfTokenizer student,
        IReadOnlyList<SampleView> samples, int sequenceLength, int topK, TailTreatment tail, BoundaryTreatment boundary)
    {
        // One vocabulary on both sides: the teacher's boundaries are the student's, nothing to marginalise.
        var marginalize = boundary == BoundaryTreatment.Marginalized && teacher.Tokenizer.ContentHash != student.ContentHash;
        var aligned = AlignedRows(teacher, student, samples, sequenceLength, topK, withPrevious: marginalize);
        var projected = TopKProjector.Project(aligned.Rows, teacher.Projection, tail);
        var moved = 0.0;
        if (aligned.Previous is { } previous)
        {
            var k = projected.K;
            projected = BoundaryMarginalizer.Apply(projected, previous, Extensions(teacher.Tokenizer, student).Next);
            moved = BoundaryMarginalizer.MeanMoved(projected, k);
        }
        return (new TeacherRows(aligned.Positions, projected), aligned.Positions.Length, aligned.Total, moved);
    }

    private static readonly ConditionalWeakTable<HfTokenizer, ConditionalWeakTable<HfTokenizer, TokenExtensions>> KnownExtensions = new();

    private static TokenExtensions Extensions(HfTokenizer teacher, HfTokenizer student) =>
        KnownExtensions.GetOrCreateValue(teacher).GetValue(student, s => new TokenExtensions(teacher, s));

    /// <summary>
    /// The teacher's own top-k rows (its ids, unprojected) at every student position aligned to one of
    /// its positions (and, with <see cref="Teacher.PositionsOf"/>, aligned to that tokenizer's too), from its cache or from running it now; <see cref="AlignedTeacherRows.Positions"/>
    /// are flat student positions b·T + j, <see cref="AlignedTeacherRows.Total"/> the positions that predict something.
    /// </summary>
    /// <param name="withPrevious">Also read each aligned row's previous teacher position (<see cref="AlignedTeacherRows.Previous"/>).</param>
    public static AlignedTeacherRows AlignedRows(Teacher teacher, HfTokenizer student, IReadOnlyList<SampleView> samples, int sequenceLength, int topK, bool withPrevious = false)
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
        var wanted = picks.Select(p => (p.Sample, p.Position)).ToList();
        PreviousRows? previous = null;
        if (withPrevious)
        {
            // The step back exists where the teacher's last token is an ordinary one with a position before it.
            var observed = picks.Select(p => p.Position >= 1 && HasBytes(encodings[p.Sample], teacher.Tokenizer, p.Position) ? encodings[p.Sample].Ids[p.Position] : -1).ToArray();
            var studentLast = picks.Select(p => samples[p.Sample].Encoding.Ids[(int)(p.Flat % sequenceLength)]).ToArray();
            previous = new PreviousRows(TopKRows.Create(picks.Count, k), observed, studentLast);
            wanted.AddRange(picks.Select((p, r) => (p.Sample, observed[r] >= 0 ? p.Position - 1 : -1)));
        }
        var rows = TopKRows.Create(wanted.Count, k);
        if (teacher.Cache is { } cache) FillFromCache(cache, samples, encodings, wanted, rows);
        else FillFromModel(teacher.Model, encodings, wanted, rows);
        var flat = picks.Select(p => p.Flat).ToArray();
        if (previous is null) return new AlignedTeacherRows(flat, rows, total);
        return new AlignedTeacherRows(flat, Slice(rows, 0, picks.Count), total, previous with { Rows = Slice(rows, picks.Count, picks.Count) });
    }

    private static bool HasBytes(TokenEncoding encoding, HfTokenizer tokenizer, int position) =>
        !tokenizer.IsSpecial(encoding.Ids[position]) && encoding.ByteOffsets[position].End > encoding.ByteOffsets[position].Start;

    private static TopKRows Slice(TopKRows rows, int first, int count) => new(count, rows.K,
        rows.Ids.AsSpan(first * rows.K, count * rows.K).ToArray(), rows.LogProbs.AsSpan(first * rows.K, count * rows.K).ToArray(), rows.TailMass.AsSpan(first, count).ToArray());

    /// <summary>Fills one row per wanted (sample, teacher position); position −1 leaves an empty row (no entry, all mass in the tail).</summary>
    private static void FillFromCache(TeacherCache cache, IReadOnlyList<SampleView> samples, List<TokenEncoding> encodings,
        List<(int Sample, int Position)> wanted, TopKRows rows)
    {
        var stored = samples.Select(s => cache.Read(s.Index)).ToList();
        for (var b = 0; b < samples.Count; b++)
            if (stored[b].Count != encodings[b].Count)
                throw new InvalidDataException($"teacher cache holds {stored[b].Count} positions for sample {samples[b].Index}, the tokenizer gives {encodings[b].Count}");
        for (var r = 0; r < wanted.Count; r++)
        {
            var row = r * rows.K;
            rows.Ids.AsSpan(row, rows.K).Clear();
            rows.LogProbs.AsSpan(row, rows.K).Fill(float.NegativeInfinity);   // pruned entries: probability zero
            rows.TailMass[r] = 1;
            if (wanted[r].Position < 0) continue;
            var p = stored[wanted[r].Sample][wanted[r].Position];
            p.Ids.CopyTo(rows.Ids, row);
            p.LogProbs.CopyTo(rows.LogProbs, row);
            rows.TailMass[r] = p.Tail;
        }
    }

    private static void FillFromModel(CausalLM model, List<TokenEncoding> encodings, List<(int Sample, int Position)> wanted, TopKRows rows)
    {
        var records = TeacherRecords.Compute(model, encodings.Select(e => e.Ids).ToList(), rows.K);
        for (var r = 0; r < wanted.Count; r++)
        {
            if (wanted[r].Position < 0)
            {
                rows.LogProbs.AsSpan(r * rows.K, rows.K).Fill(float.NegativeInfinity);
                rows.TailMass[r] = 1;
                continue;
            }
            records.Ids(wanted[r].Sample, wanted[r].Position).CopyTo(rows.Ids.AsSpan(r * rows.K));
            records.LogProbs(wanted[r].Sample, wanted[r].Position).CopyTo(rows.LogProbs.AsSpan(r * rows.K));
            rows.TailMass[r] = records.Tail(wanted[r].Sample, wanted[r].Position);
        }
    }
}
