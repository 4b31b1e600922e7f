using MultiTeacher.Runtime;
using static TorchSharp.torch;

namespace MultiTeacher.Training;

/// <summary>
/// The student's side of a batch's chunks, shared by every teacher's <see cref="AlmChunkPlan"/>: per
/// flattened row r, Observed[r] = log q(the token the plans observe after r) and, where chunks are
/// debiased, Boundary[r] = log q(the next token starts at a word boundary), both (R) in float64.
/// Read once from the (R, V) log-probabilities, so each teacher only indexes these vectors: the
/// (R, V) work and its backward happen once per batch, not once per teacher. Boundary is only read
/// at the rows a debiasing plan ends a chunk at (NaN elsewhere).
/// </summary>
public sealed record AlmStudentSide(Tensor Observed, Tensor? Boundary)
{
    /// <summary>The ids (K) of a boundary mask (V), found once per vocabulary: finding them is a device sync, not a per-batch cost.</summary>
    public static Tensor BoundaryIds(Tensor boundaryMask) => boundaryMask.nonzero().squeeze(1);

    /// <summary>From log-probabilities (R, V) for the plans that will read them; they must agree on each row's observed token.</summary>
    public static AlmStudentSide For(Tensor studentLogProbs, IReadOnlyList<AlmChunkPlan> plans, Tensor boundaryIds)
    {
        using var scope = NewDisposeScope();
        var rows = studentLogProbs.shape[0];
        var ids = new long[rows];
        var seen = new bool[rows];
        foreach (var plan in plans)
            for (var i = 0; i < plan.Rows.Count; i++)
            {
                var (row, id) = (plan.Rows[i], plan.Ids[i]);
                if (seen[row] && ids[row] != id) throw new ArgumentException($"plans disagree on the token observed after row {row}: {ids[row]} and {id}", nameof(plans));
                (ids[row], seen[row]) = (id, true);
            }
        var device = studentLogProbs.device;
        var observed = studentLogProbs.gather(1, tensor(ids, device: device).unsqueeze(1)).squeeze(1).to(float64);       // (R)
        var ends = plans.Where(p => p.Settings.Debias).SelectMany(p => p.EndRows).Distinct().Order().ToArray();
        var boundary = plans.Any(p => p.Settings.Debias) ? BoundaryAt(studentLogProbs, ends, boundaryIds) : null;
        return new AlmStudentSide(observed.MoveToOuterDisposeScope(), boundary?.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// log Σ_{v boundary} q(v | r) (R) in float64 at <paramref name="rows"/>, NaN elsewhere. Only those rows and the
    /// boundary ids' columns are read, so neither the forward nor the backward makes a full (R, V) masked copy.
    /// </summary>
    public static Tensor BoundaryAt(Tensor studentLogProbs, long[] rows, Tensor boundaryIds)
    {
        using var scope = NewDisposeScope();
        var device = studentLogProbs.device;
        var all = full(studentLogProbs.shape[0], double.NaN, dtype: float64, device: device);
        if (rows.Length == 0) return all.MoveToOuterDisposeScope();
        var at = tensor(rows, device: device);
        var columns = boundaryIds.to(device);                                                                              // (K)
        var mass = columns.numel() == 0
            ? full(rows.Length, Scalars.NegativeInfinity, dtype: studentLogProbs.dtype, device: device)
            : studentLogProbs.index_select(0, at).index_select(1, columns).logsumexp(1);                                    // (E)
        return all.index_copy(0, at, mass.to(float64)).MoveToOuterDisposeScope();
    }
}
