using System.Numerics.Tensors;

namespace MultiTeacher.Alignment;

/// <summary>What to do with the probability mass outside a teacher's top-k.</summary>
public enum TailTreatment
{
    /// <summary>Drop it and rescale the top-k to sum to one.</summary>
    Renormalize,
    /// <summary>Keep it as its own bucket, spread evenly over the student tokens outside the support when a full distribution is needed.</summary>
    Bucket,
    /// <summary>
    /// Keep it as one outcome: the loss compares it with the student's whole mass outside the
    /// support, so the tail asks nothing of how the student spreads that mass (a coarsened divergence).
    /// </summary>
    Lump,
    /// <summary>
    /// Spread evenly over the teacher's tokens outside its top-k, then carried into the student
    /// vocabulary with them: each support token also gets the share of the tail teacher tokens the
    /// projection sends to it, and what lands outside the support is spread as in <see cref="Bucket"/>.
    /// With one vocabulary on both sides it is <see cref="Bucket"/>.
    /// </summary>
    TeacherSpread,
}

/// <summary>Top-k next-token distributions of one teacher, row-major: R rows of k (teacher id, log-prob), plus each row's mass outside the top-k.</summary>
public sealed record TopKRows(int Rows, int K, int[] Ids, float[] LogProbs, float[] TailMass)
{
    public static TopKRows Create(int rows, int k) => new(rows, k, new int[rows * k], new float[rows * k], new float[rows]);
}

/// <summary>
/// Top-k rows carried into the student vocabulary: student ids (duplicates allowed: several teacher
/// tokens may land on one student token, and densifying adds them up), probabilities, and tail mass.
/// Each row's probabilities plus its tail sum to one.
/// </summary>
public sealed record ProjectedRows(int Rows, int K, int StudentVocabSize, int[] Ids, float[] Probs, float[] Tail);

/// <summary>Projects batches of teacher top-k rows through a <see cref="VocabularyProjection"/>.</summary>
public static class TopKProjector
{
    public static ProjectedRows Project(TopKRows rows, VocabularyProjection projection, TailTreatment treatment)
    {
        var n = rows.Rows * rows.K;
        var ids = new int[n];
        var probs = new float[n];
        var tail = new float[rows.Rows];
        TensorPrimitives.Exp(rows.LogProbs, probs);
        var map = projection.Map;
        var k = rows.K;
        var preimages = treatment == TailTreatment.TeacherSpread ? projection.Preimages : null;
        Parallel.For(0, (rows.Rows + 255) / 256, block =>
        {
            var end = Math.Min(rows.Rows, (block + 1) * 256);
            var inRow = preimages is null ? null : new Dictionary<int, (int First, int Count)>(k);
            for (var r = block * 256; r < end; r++)
            {
                var lost = 0f;
                for (var i = r * k; i < (r + 1) * k; i++)
                {
                    // Models may have more logit rows than their tokenizer has tokens (Qwen pads its
                    // embedding to 151,936): mass on ids outside the vocabulary goes to the tail.
                    var id = rows.Ids[i];
                    var target = (uint)id < (uint)map.Length ? map[id] : -1;
                    if (target < 0) { lost += probs[i]; probs[i] = 0; target = 0; }
                    ids[i] = target;
                }
                var row = probs.AsSpan(r * k, k);
                if (inRow is not null) { tail[r] = SpreadInTeacherSpace(rows, r, map, preimages!, ids, probs, lost, inRow); continue; }
                if (treatment != TailTreatment.Renormalize) { tail[r] = rows.TailMass[r] + lost; continue; }
                var kept = TensorPrimitives.Sum(row);
                if (kept > 0) TensorPrimitives.Divide(row, kept, row);
                else tail[r] = 1f;   // nothing of the row reached the student: only a uniform guess remains
            }
        });
        return new ProjectedRows(rows.Rows, k, projection.StudentVocabSize, ids, probs, tail);
    }

    /// <summary>
    /// Row <paramref name="r"/>'s tail as <see cref="TailTreatment.TeacherSpread"/> carries it: each of
    /// the teacher's ids outside the row's top-k holds tail / (teacher vocabulary − k); a support
    /// token gains that share for every such id the map sends to it (its preimages less the top-k
    /// entries already on it), added to its first entry. Returns the mass left for the outside tokens.
    /// </summary>
    private static float SpreadInTeacherSpace(TopKRows rows, int r, int[] map, int[] preimages, int[] ids, float[] probs, float lost, Dictionary<int, (int First, int Count)> inRow)
    {
        var k = rows.K;
        var tail = rows.TailMass[r] + lost;
        var outsideTopK = map.Length - k;
        if (outsideTopK <= 0 || tail <= 0) return tail;
        inRow.Clear();
        for (var i = r * k; i < (r + 1) * k; i++)
        {
            if ((uint)rows.Ids[i] >= (uint)map.Length || map[rows.Ids[i]] < 0) continue;
            inRow[ids[i]] = inRow.TryGetValue(ids[i], out var seen) ? (seen.First, seen.Count + 1) : (i, 1);
        }
        var share = (double)rows.TailMass[r] / outsideTopK;
        var given = 0.0;
        foreach (var (student, (first, count)) in inRow)
        {
            var extra = share * (preimages[student] - count);
            probs[first] += (float)extra;
            given += extra;
        }
        return (float)Math.Max(0, tail - given);
    }
}
