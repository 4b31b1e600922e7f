using MultiTeacher.Models;
using MultiTeacher.Tests.Models;

namespace MultiTeacher.Tests.Cli;

[Trait("Category", TestCategory.Unit)]
public sealed class ModelCommandTests : TempDirectoryTest
{
    [Fact]
    public void Inspect_PrintsArchitectureAndParameterCount_FromAConfigAlone()
    {
        var (code, output, error) = CliRunner.Run("", "model", "inspect", TestAssets.FixturePath("configs", "mistral-7b-v0.1"));
        Assert.True(code == 0, error);
        Assert.Contains("MistralForCausalLM", output);
        Assert.Contains("7,241,732,096", output);
        Assert.Contains("none (config only)", output);
    }

    [Fact]
    public void Generate_ContinuesAPrompt_WithASavedModelAndItsRealTokenizer()
    {
        var config = TinyModels.Config("mistral", vocab: 32000);
        using (var model = TinyModels.Create(config))
            PretrainedModel.Save(model, TempDir, TestAssets.TokenizerDir("mistral-7b-v0.1"));
        var (code, output, error) = CliRunner.Run("", "generate", "--model", TempDir, "--prompt", "The jury said", "--max-new-tokens", "5");
        Assert.True(code == 0, error);
        Assert.StartsWith("The jury said", output);
        var (inspectCode, inspect, _) = CliRunner.Run("", "model", "inspect", TempDir);
        Assert.Equal(0, inspectCode);
        Assert.Contains("F32", inspect);
    }

    [Fact]
    public void Generate_OnAMissingModel_IsBadInput()
    {
        Assert.Equal(2, CliRunner.Run("", "generate", "--model", Path.Combine(TempDir, "none"), "--prompt", "x").ExitCode);
    }
}
