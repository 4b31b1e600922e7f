using static TorchSharp.torch;

namespace MultiTeacher.Merging;

/// <summary>
/// Batched orthogonal matching pursuit (Pati, Rezaiifar &amp; Krishnaprasad 1993): each target y is
/// approximated by k atoms of a dictionary D. Step by step the atom not yet chosen with the largest
/// |⟨dⱼ/‖dⱼ‖, r⟩| joins the support S, the coefficients are refitted by least squares
/// c = argmin ‖y − D_Sᵀc‖ and r = y − D_Sᵀc. Atoms are scored by direction, as the textbook
/// algorithm does (tokensurgeon scores them unnormalised, which favours long rows, the frequent
/// tokens', whatever their direction; on the demo's transplant that measured slightly worse).
/// </summary>
public static class OrthogonalMatchingPursuit
{
    /// <param name="targets">B × d targets.</param>
    /// <param name="dictionary">m × d atoms (one per row).</param>
    /// <returns>B × k atom indices (in the order chosen) and B × k coefficients.</returns>
    public static (Tensor Indices, Tensor Coefficients) Fit(Tensor targets, Tensor dictionary, int k)
    {
        using var scope = NewDisposeScope();
        var y = targets.to(ScalarType.Float64);
        var atoms = dictionary.to(ScalarType.Float64);
        // Scoring every atom is the cost (B × m × d per step): float32 there, float64 for the fit.
        var single = dictionary.to(ScalarType.Float32);
        var scoring = (single / single.norm(1, keepdim: true).clamp_min(1e-12)).t();
        k = (int)Math.Min(k, atoms.shape[0]);
        var batch = y.shape[0];
        var chosen = zeros(batch, atoms.shape[0], dtype: ScalarType.Bool);
        var indices = zeros(batch, k, dtype: ScalarType.Int64);
        var coefficients = zeros(batch, 0, dtype: ScalarType.Float64);
        var residual = y.clone();
        for (var step = 0; step < k; step++)
        {
            using var inner = NewDisposeScope();
            var scores = residual.to(ScalarType.Float32).matmul(scoring).abs_().masked_fill_(chosen, -1);
            var next = scores.argmax(1);
            indices[.., step] = next;
            chosen.scatter_(1, next.unsqueeze(1), ones(batch, 1, dtype: ScalarType.Bool));
            var support = atoms.index_select(0, indices[.., ..(step + 1)].reshape(-1)).reshape(batch, step + 1, -1);   // B × s × d
            // Least squares through the normal equations of the s × s Gram matrix, with a ridge for rank deficiency.
            var gram = support.matmul(support.transpose(1, 2)) + eye(step + 1, dtype: ScalarType.Float64) * 1e-10;
            var c = linalg.solve(gram, support.matmul(y.unsqueeze(2)));   // B × s × 1
            residual.Dispose();
            coefficients.Dispose();
            residual = (y - c.transpose(1, 2).matmul(support).squeeze(1)).MoveToOuterDisposeScope();
            coefficients = c.squeeze(2).MoveToOuterDisposeScope();
        }
        return (indices.MoveToOuterDisposeScope(), coefficients.to(ScalarType.Float32).MoveToOuterDisposeScope());
    }
}
