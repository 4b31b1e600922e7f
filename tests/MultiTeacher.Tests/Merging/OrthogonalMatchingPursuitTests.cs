using MultiTeacher.Merging;
using static TorchSharp.torch;

namespace MultiTeacher.Tests.Merging;

[Trait("Category", TestCategory.Unit)]
public class OrthogonalMatchingPursuitTests
{
    private static Tensor Rows(params double[][] rows) => tensor(rows.SelectMany(r => r).Select(x => (float)x).ToArray()).reshape(rows.Length, rows[0].Length);

    private static (long[] Indices, float[] Coefficients) FitOne(Tensor target, Tensor atoms, int k)
    {
        var (indices, coefficients) = OrthogonalMatchingPursuit.Fit(target.unsqueeze(0), atoms, k);
        return (indices[0].data<long>().ToArray(), coefficients[0].data<float>().ToArray());
    }

    /// <summary>
    /// y = 3·a4 − 2·a3 + 0.5·a1, worked by hand: |⟨aⱼ/‖aⱼ‖, y⟩| = 0, 0.5, 0.22, 2, 6, 2.25 picks a4
    /// (c = 12/4 = 3, r = (0, 0.5, −2, 0)); then 0, 0.5, 0.22, 2, –, 0.75 picks a3 (r = (0, 0.5, 0, 0));
    /// then 0, 0.5, 0.22, –, –, 0.25 picks a1, and the refit is exact.
    /// </summary>
    [Fact]
    public void Omp_recovers_a_known_sparse_combination_exactly_in_the_hand_worked_order()
    {
        var atoms = Rows([1, 0, 0, 0], [0, 1, 0, 0], [1, 0.5, 0, 0], [0, 0, 1, 0], [0, 0, 0, 2], [0.5, 0.5, 0.5, 0.5]);
        var (indices, c) = FitOne(tensor(new[] { 0f, 0.5f, -2f, 6f }), atoms, 3);
        Assert.Equal(new long[] { 4, 3, 1 }, indices);
        Assert.Equal(3, c[0], 5);
        Assert.Equal(-2, c[1], 5);
        Assert.Equal(0.5, c[2], 5);
    }

    [Fact]
    public void Omp_recovers_a_random_sparse_combination_of_many_anchors()
    {
        var atoms = randn(500, 32, generator: new Generator(4));
        var target = 2 * atoms[31] - 0.5 * atoms[207] + 1.25 * atoms[444];
        var (indices, c) = FitOne(target, atoms, 3);
        var byAtom = indices.Zip(c).ToDictionary(p => p.First, p => p.Second);
        Assert.Equal(new long[] { 31, 207, 444 }, indices.Order().ToArray());
        Assert.Equal(2, byAtom[31], 4);
        Assert.Equal(-0.5, byAtom[207], 4);
        Assert.Equal(1.25, byAtom[444], 4);
    }

    /// <summary>
    /// y = (1, 0.2): unnormalised, |⟨(0, 10), y⟩| = 2 would beat |⟨(1, 0), y⟩| = 1; by direction the
    /// unit atom (cosine 0.98 against 0.20) is chosen, with c = 1.
    /// </summary>
    [Fact]
    public void Omp_scores_atoms_by_direction_so_the_better_aligned_atom_wins_over_a_longer_one()
    {
        var (indices, c) = FitOne(tensor(new[] { 1f, 0.2f }), Rows([1, 0], [0, 10]), 1);
        Assert.Equal(new long[] { 0 }, indices);
        Assert.Equal(1, c[0], 6);
    }

    [Fact]
    public void Omp_never_chooses_an_atom_twice_once_the_residual_is_zero()
    {
        var atoms = Rows([1, 0, 0], [0, 1, 0], [0, 0, 1], [0.5, 0.5, 0.5]);
        var (indices, c) = FitOne(tensor(new[] { 2f, 0f, 0f }), atoms, 3);
        Assert.Equal(3, indices.Distinct().Count());
        Assert.Equal(0, indices[0]);
        Assert.Equal(2, c[0], 5);
        Assert.All(c.Skip(1), x => Assert.Equal(0, x, 5));
    }

    /// <summary>
    /// Donor anchors (new ids 1, 2, 3) (4, 4), (2, 0), (0, 2): mean (2, 2), centred (2, 2), (0, −2),
    /// (−2, 0). The new token's donor row (5, 5) centres to (3, 3), scores 12, 6, 6: the first anchor,
    /// c = 12 / 8 = 1.5. Its old rows (old ids 2, 0, 1) (4, 2), (1, 1), (1, 3): mean (2, 2), the first
    /// centred (2, 0); the new row is (2, 2) + 1.5·(2, 0) = (5, 2). Uncentred it would be 1.25·(4, 2) = (5, 2.5).
    /// </summary>
    [Fact]
    public void Omp_transplant_adds_the_donor_offsets_to_the_old_anchor_mean()
    {
        var oldRows = Rows([1, 1], [1, 3], [4, 2]);                 // old ids 0, 1, 2
        var donorRows = Rows([9, 9], [4, 4], [2, 0], [0, 2], [5, 5]);   // new ids 0..4: new 1, 2, 3 are old 2, 0, 1
        var oldIdOf = new[] { -1, 2, 0, 1, -1 };
        var rows = VocabularyTransplant.Omp(oldRows, donorRows, oldIdOf, [1, 2, 3], [4], 1);
        Assert.Equal(new[] { 5f, 2f }, rows[0].data<float>().ToArray().Select(x => MathF.Round(x, 5)));
    }

    [Fact]
    public void Omp_transplant_moves_with_the_old_space_and_ignores_a_shift_of_the_donor_space()
    {
        var generator = new Generator(7);
        var (oldRows, donorRows) = (randn(40, 8, generator: generator), randn(50, 8, generator: generator));
        var oldIdOf = Enumerable.Range(0, 50).Select(i => i < 40 ? 39 - i : -1).ToArray();
        int[] shared = [.. Enumerable.Range(0, 40)], missing = [.. Enumerable.Range(40, 10)];
        var shift = randn(1, 8, generator: generator) * 3;
        var rows = VocabularyTransplant.Omp(oldRows, donorRows, oldIdOf, shared, missing, 4);
        Assert.True(VocabularyTransplant.Omp(oldRows, donorRows + shift, oldIdOf, shared, missing, 4).allclose(rows, rtol: 0, atol: 1e-4));
        Assert.True(VocabularyTransplant.Omp(oldRows + shift, donorRows, oldIdOf, shared, missing, 4).allclose(rows + shift, rtol: 0, atol: 1e-4));
    }
}
