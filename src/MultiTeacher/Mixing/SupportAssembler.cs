using MultiTeacher.Alignment;
using static TorchSharp.torch;

namespace MultiTeacher.Mixing;

/// <summary>One teacher's projected rows and the flat student position each row belongs to.</summary>
public sealed record TeacherRows(long[] Positions, ProjectedRows Rows);

/// <summary>
/// Builds the mixing input from the teachers' projected top-k rows without densifying them. A
/// teacher's distribution at a position is its projected entries (several teacher tokens landing on
/// one student token add up) plus its tail spread evenly over every student token outside its
/// support; a row whose support is the whole vocabulary is rescaled instead. The support of a
/// position is the union of the present teachers' supports.
/// </summary>
public static class SupportAssembler
{
    /// <summary>One teacher's rows as full distributions over the student vocabulary (R, V), by the same rules.</summary>
    public static Tensor Dense(ProjectedRows rows)
    {
        using var scope = NewDisposeScope();
        var positions = Enumerable.Range(0, rows.Rows).Select(r => (long)r).ToArray();
        var input = Assemble([new TeacherRows(positions, rows)], positions, new long[rows.Rows], new long[rows.Rows], rows.StudentVocabSize);
        return input.Dense()[0].MoveToOuterDisposeScope();
    }

    /// <param name="order">The flat student positions to build, ascending; every teacher row's position is among them.</param>
    /// <param name="gold">Per position in <paramref name="order"/>: the gold next student token.</param>
    /// <param name="sequence">Per position: the sequence it belongs to.</param>
    public static MixingInput Assemble(IReadOnlyList<TeacherRows> teachers, long[] order, long[] gold, long[] sequence, int vocabSize)
    {
        var (k, n) = (teachers.Count, order.Length);
        var rowOf = new int[k * n];
        Array.Fill(rowOf, -1);
        var slotOfPosition = new Dictionary<long, int>(n);
        for (var p = 0; p < n; p++) slotOfPosition[order[p]] = p;
        for (var t = 0; t < k; t++)
            for (var r = 0; r < teachers[t].Positions.Length; r++) rowOf[t * n + slotOfPosition[teachers[t].Positions[r]]] = r;

        // Union of supports per position, with a stamp array instead of clearing a vocabulary-sized map each time.
        var unionStamp = new int[vocabSize];
        var slotOf = new int[vocabSize];
        var unions = new int[n][];
        var union = new List<int>();
        for (var p = 0; p < n; p++)
        {
            union.Clear();
            for (var t = 0; t < k; t++)
            {
                var r = rowOf[t * n + p];
                if (r < 0) continue;
                var rows = teachers[t].Rows;
                for (var i = r * rows.K; i < (r + 1) * rows.K; i++)
                    if (rows.Probs[i] > 0 && unionStamp[rows.Ids[i]] != p + 1) { unionStamp[rows.Ids[i]] = p + 1; union.Add(rows.Ids[i]); }
            }
            unions[p] = union.ToArray();
        }
        var m = Math.Max(1, unions.Length == 0 ? 0 : unions.Max(u => u.Length));

        var ids = new long[n * m];
        var valid = new bool[n * m];
        var outside = new float[n];
        var values = new float[k * n * m];
        var rest = new float[k * n];
        var present = new bool[k * n];
        var goldLogProb = new float[k * n];
        var teacherStamp = new int[vocabSize];
        var stamp = 0;
        for (var p = 0; p < n; p++)
        {
            var u = unions[p];
            for (var j = 0; j < u.Length; j++) { ids[p * m + j] = u[j]; valid[p * m + j] = true; slotOf[u[j]] = j; unionStamp[u[j]] = -(p + 1); }
            outside[p] = vocabSize - u.Length;
            for (var t = 0; t < k; t++)
            {
                var r = rowOf[t * n + p];
                if (r < 0) continue;
                var rows = teachers[t].Rows;
                var at = (t * n + p) * m;
                stamp++;
                var supportSize = 0;
                for (var i = r * rows.K; i < (r + 1) * rows.K; i++)
                {
                    if (rows.Probs[i] <= 0) continue;
                    var id = rows.Ids[i];
                    if (teacherStamp[id] != stamp) { teacherStamp[id] = stamp; supportSize++; }
                    values[at + slotOf[id]] += rows.Probs[i];
                }
                var tail = rows.Tail[r];
                var full = supportSize == vocabSize;
                var share = full ? 0f : tail / (vocabSize - supportSize);
                for (var j = 0; j < u.Length; j++)
                    if (teacherStamp[u[j]] != stamp) values[at + j] = share;
                    else if (full) values[at + j] /= Math.Max(1e-12f, 1 - tail);
                rest[t * n + p] = share;
                present[t * n + p] = true;
                var g = (int)gold[p];
                var q = unionStamp[g] == -(p + 1) ? values[at + slotOf[g]] : share;
                goldLogProb[t * n + p] = MathF.Log(Math.Max(q, 1e-10f));
            }
        }
        var support = new Support(tensor(ids, [n, m]), tensor(valid, [n, m]), tensor(outside), vocabSize);
        return new MixingInput(support, tensor(values, [k, n, m]), tensor(rest, [k, n]), tensor(present, [k, n]),
            tensor(goldLogProb, [k, n]), tensor(sequence));
    }
}
