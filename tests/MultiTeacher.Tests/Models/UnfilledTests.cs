using MultiTeacher.Models;
using static TorchSharp.torch;

namespace MultiTeacher.Tests.Models;

/// <summary>Models are built without drawing weights (a checkpoint or InitializeWeights writes them next), and the token embedding looks rows up.</summary>
[Trait("Category", TestCategory.Unit)]
public sealed class UnfilledTests
{
    [Theory, MemberData(nameof(TinyModels.FamilyData), MemberType = typeof(TinyModels))]
    public void BuildingAModel_DrawsNoRandomNumbers_AndGivesEveryParameterItsDtype(string family)
    {
        manual_seed(12);
        var expected = rand(4).data<float>().ToArray();
        manual_seed(12);
        using (var model = new CausalLM(TinyModels.Config(family), dtype: ScalarType.BFloat16))
            Assert.All(model.parameters(), p => Assert.Equal(ScalarType.BFloat16, p.dtype));
        Assert.Equal(expected, rand(4).data<float>().ToArray());
    }

    [Fact]
    public void TokenEmbedding_ReturnsTheRowsOfItsIds_AndSumsTheGradientOfRepeatedIds()
    {
        using var embedding = new TokenEmbedding(5, 3);
        using (no_grad()) embedding.Weight.copy_(arange(15, dtype: float32).view(5, 3));
        var ids = tensor(new long[,] { { 4, 1 }, { 1, 0 } });
        var vectors = embedding.forward(ids);
        Assert.Equal([2L, 2, 3], vectors.shape);
        Assert.Equal(new float[] { 12, 13, 14, 3, 4, 5, 3, 4, 5, 0, 1, 2 }, vectors.data<float>().ToArray());
        vectors.sum().backward();
        // Row 1 is read twice, rows 0 and 4 once, rows 2 and 3 never.
        Assert.Equal(new float[] { 1, 1, 1, 2, 2, 2, 0, 0, 0, 0, 0, 0, 1, 1, 1 }, embedding.Weight.grad!.data<float>().ToArray());
    }
}
