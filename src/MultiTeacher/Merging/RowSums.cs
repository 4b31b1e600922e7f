using static TorchSharp.torch;

namespace MultiTeacher.Merging;

/// <summary>
/// Sums over a whole tensor that come out bit for bit the same whether the tensor is summed at once
/// or in blocks of rows: each row is summed in float64 by torch (a row is never split), and the row
/// sums are added one after another in row order. Slerp's angle and model_stock's cosine use it, so a
/// merge in row blocks equals the whole-tensor merge exactly.
/// </summary>
public sealed class RowSums
{
    public double Total { get; private set; }

    /// <summary>Adds the sum of every entry of <paramref name="block"/> (rows along the first dimension, or one row if it has fewer than two).</summary>
    public void Add(Tensor block)
    {
        using var scope = NewDisposeScope();
        var rows = block.dim() >= 2 ? block.reshape(block.shape[0], -1) : block.reshape(1, -1);
        foreach (var row in rows.to(ScalarType.Float64).sum(1).data<double>()) Total += row;
    }
}
