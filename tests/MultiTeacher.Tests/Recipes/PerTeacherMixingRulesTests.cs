using MultiTeacher.Mixing;
using MultiTeacher.Recipes;
using MultiTeacher.Tests.Cli;

namespace MultiTeacher.Tests.Recipes;

/// <summary>Which mixing settings per-teacher terms (loss.kind alm, uld) accept, and the policy they take when none is stated.</summary>
[Trait("Category", TestCategory.Unit)]
public sealed class PerTeacherMixingRulesTests : RecipeTestFiles
{
    private string Recipe(string loss, string mixing) => Write(WithTeacher($"loss: {{ kind: {loss} }}\n" + (mixing.Length > 0 ? $"mixing: {{ {mixing} }}\n" : "")));

    [Theory]
    [InlineData("alm", "policy: product", "mixing policy 'product' pools token distributions; loss kind 'alm' weighs one term per teacher: use weighted, uniform, confidence, avg_ce or min_ce")]
    [InlineData("uld", "policy: product", "mixing policy 'product' pools token distributions; loss kind 'uld' weighs one term per teacher: use weighted or uniform")]
    [InlineData("uld", "policy: avg_ce", "mixing policy 'avg_ce' weighs teachers by their likelihood of the text, which loss kind 'uld' does not read: use weighted or uniform")]
    [InlineData("uld", "policy: confidence", "mixing policy 'confidence' weighs teachers by their likelihood of the text, which loss kind 'uld' does not read: use weighted or uniform")]
    [InlineData("uld", "gate_bits_per_byte: 2", "gate_bits_per_byte needs the teachers' likelihood of the text, which loss kind 'uld' does not read: use loss kind alm or remove it")]
    [InlineData("alm", "policy: min_ce, granularity: token", "granularity 'token' compares teachers token by token, and their tokens differ under loss kind 'alm': use 'sequence'")]
    [InlineData("forward_kl", "gate_bits_per_byte: 2", "gate_bits_per_byte switches off per-teacher terms (loss kind alm); blended objectives weigh teachers per position: remove it")]
    public void PoliciesWithoutMeaningForTheObjective_AreRejectedWithOneLine(string loss, string mixing, string message)
    {
        var e = Assert.Throws<RecipeException>(() => RecipeLoader.Load(Recipe(loss, mixing)));
        Assert.Equal(message, Assert.Single(e.Errors).Message);
    }

    [Theory]
    [InlineData("alm", "policy: avg_ce, temperature: 0.5, gate_bits_per_byte: 3", MixingPolicyKind.AvgCe)]
    [InlineData("alm", "policy: confidence", MixingPolicyKind.Confidence)]
    [InlineData("alm", "policy: min_ce, granularity: sequence", MixingPolicyKind.MinCe)]
    [InlineData("uld", "policy: uniform", MixingPolicyKind.Uniform)]
    [InlineData("alm", "", MixingPolicyKind.Weighted)]
    [InlineData("uld", "temperature: 2", MixingPolicyKind.Weighted)]
    [InlineData("forward_kl", "", MixingPolicyKind.Confidence)]
    [InlineData("forward_kl", "policy: product", MixingPolicyKind.Product)]
    public void MeaningfulPolicies_Load_AndPerTeacherTermsWithoutOne_KeepTheFixedWeights(string loss, string mixing, MixingPolicyKind expected)
    {
        Assert.Equal(expected, RecipeLoader.Load(Recipe(loss, mixing)).Mixing.Policy);
    }

    [Fact]
    public void RecipeCheck_ExitsWith2_AndOneLine()
    {
        var (code, _, error) = CliRunner.Run("", "recipe", "check", Recipe("alm", "policy: product"));
        Assert.Equal(2, code);
        var line = Assert.Single(error.Trim().Split('\n'));
        Assert.EndsWith("mixing policy 'product' pools token distributions; loss kind 'alm' weighs one term per teacher: use weighted, uniform, confidence, avg_ce or min_ce", line);
    }
}
