using static TorchSharp.torch;

namespace MultiTeacher.Mixing;

/// <summary>
/// The tokens that carry individual probabilities at each of N positions: the union U of the
/// teachers' top-k supports, M slots per position (padded; Valid marks real ones). Every
/// distribution on a support has a value per slot and one value shared by each of the
/// Outside = V − |U| other tokens, so a blend of three teachers over a 150k vocabulary costs
/// O(N·3k) rather than O(N·V).
/// Ids (N, M) long; Valid (N, M) bool; Outside (N) float.
/// </summary>
public sealed record Support(Tensor Ids, Tensor Valid, Tensor Outside, int VocabSize)
{
    /// <summary>Every token in its own slot (M = V): how dense distributions enter.</summary>
    public static Support Full(long positions, int vocabSize, Device? device = null) => new(
        arange(vocabSize, dtype: ScalarType.Int64, device: device).unsqueeze(0).expand(positions, vocabSize),
        ones(positions, vocabSize, dtype: ScalarType.Bool, device: device),
        zeros(positions, device: device), vocabSize);

    /// <summary>Values (..., N, M) and rest (..., N) as dense distributions (..., N, V).</summary>
    public Tensor Dense(Tensor values, Tensor rest)
    {
        using var scope = NewDisposeScope();
        var shape = values.shape[..^1].Append(VocabSize).ToArray();
        var dense = rest.unsqueeze(-1).expand(shape).contiguous();                        // (..., N, V)
        var ids = Ids.expand(values.shape);                                               // (..., N, M)
        // Padding slots add nothing; each real token appears once per row, so adding (value − rest) is exact.
        var delta = (values - rest.unsqueeze(-1)) * Valid.to(values.dtype);
        return dense.scatter_add(-1, ids, delta).MoveToOuterDisposeScope();
    }

    public Support To(Device device) => new(Ids.to(device), Valid.to(device), Outside.to(device), VocabSize);
}

/// <summary>
/// One distribution per position on a <see cref="Support"/>: Values (N, M), Rest (N) for each token
/// outside it. Lumped: divergences treat the Outside tokens as one outcome of mass Rest · Outside.
/// </summary>
public sealed record SupportDistribution(Support Support, Tensor Values, Tensor Rest)
{
    public bool Lumped { get; init; }

    public static SupportDistribution FromDense(Tensor dense) =>
        new(Support.Full(dense.shape[0], (int)dense.shape[1], dense.device), dense, zeros(dense.shape[0], dtype: dense.dtype, device: dense.device));

    public Tensor Dense() => Support.Dense(Values, Rest);

    public SupportDistribution To(Device device) => this with { Support = Support.To(device), Values = Values.to(device), Rest = Rest.to(device) };

    /// <summary>Positions start .. start + count − 1 (views, no copy).</summary>
    public SupportDistribution Rows(long start, long count) => this with
    {
        Support = Support with { Ids = Support.Ids.narrow(0, start, count), Valid = Support.Valid.narrow(0, start, count), Outside = Support.Outside.narrow(0, start, count) },
        Values = Values.narrow(0, start, count), Rest = Rest.narrow(0, start, count),
    };
}
