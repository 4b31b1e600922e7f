using static TorchSharp.torch;

namespace MultiTeacher.Merging;

/// <summary>
/// Batched orthogonal matching pursuit (Pati, Rezaiifar &amp; Krishnaprasad 1993): each target y is
/// approximated by k atoms of a dictionary D. Step by step the atom of largest |⟨d̂ⱼ, r⟩| with the
/// residual r joins the support S, the coefficients are refitted by least squares
/// c = argmin ‖y − D_Sᵀc‖ and r = y − D_Sᵀc. mergekit's tokensurgeon runs it with shared tokens'
/// embeddings as the dictionary.
/// </summary>
public static class OrthogonalMatchingPursuit
{
    /// <param name="targets">B × d targets.</param>
    /// <param name="dictionary">m × d atoms (one per row).</param>
    /// <returns>B × k atom indices and B × k coefficients.</returns>
    public static (Tensor Indices, Tensor Coefficients) Fit(Tensor targets, Tensor dictionary, int k)
    {
        using var scope = NewDisposeScope();
        var y = targets.to(ScalarType.Float64);
        var atoms = dictionary.to(ScalarType.Float64);
        k = (int)Math.Min(k, atoms.shape[0]);
        var unit = atoms / atoms.norm(1, keepdim: true).clamp_min(1e-12);
        var batch = y.shape[0];
        var indices = zeros(batch, k, dtype: ScalarType.Int64);
        var coefficients = zeros(batch, 0, dtype: ScalarType.Float64);
        var residual = y.clone();
        for (var step = 0; step < k; step++)
        {
            using var inner = NewDisposeScope();
            var scores = residual.matmul(unit.t()).abs();
            indices[.., step] = scores.argmax(1);
            var support = atoms.index_select(0, indices[.., ..(step + 1)].reshape(-1)).reshape(batch, step + 1, -1);   // B × s × d
            // Least squares through the normal equations of the s × s Gram matrix, with a ridge for rank deficiency.
            var gram = support.matmul(support.transpose(1, 2)) + eye(step + 1, dtype: ScalarType.Float64) * 1e-10;
            var rhs = support.matmul(y.unsqueeze(2));
            var c = linalg.solve(gram, rhs);   // B × s × 1
            residual.Dispose();
            coefficients.Dispose();
            residual = (y - c.transpose(1, 2).matmul(support).squeeze(1)).MoveToOuterDisposeScope();
            coefficients = c.squeeze(2).MoveToOuterDisposeScope();
        }
        return (indices.MoveToOuterDisposeScope(), coefficients.to(ScalarType.Float32).MoveToOuterDisposeScope());
    }
}
