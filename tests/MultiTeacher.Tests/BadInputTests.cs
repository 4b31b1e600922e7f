using System.Text.Json;
using MultiTeacher.Checkpoints;
using MultiTeacher.Cli;
using MultiTeacher.Jobs;
using MultiTeacher.Recipes;
using MultiTeacher.Tokenization;
using MultiTeacher.Training;

namespace MultiTeacher.Tests;

[Trait("Category", TestCategory.Unit)]
public sealed class BadInputTests
{
    private sealed class UnknownTeacher(string name) : BadInputException($"no teacher '{name}'");

    public static TheoryData<Exception> BadInputs => new()
    {
        new RecipeException([new RecipeError("r.yaml", 3, 1, "unknown key 'stpes'")]),
        new CheckpointException("model.safetensors", "lm_head.weight", "shape [2, 3], expected [3, 2]"),
        new TokenizerLoadException("tokenizer.json", "not JSON"),
        new InputsChangedException(["data.train"]),
        new UnknownTeacher("press"),
        new FileNotFoundException("no such file", "train.txt"),
        new DirectoryNotFoundException("no such directory"),
        new InvalidDataException("not UTF-8"),
        new JsonException("config.json: unexpected end"),
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void BadInput_ExitsWithCode2_AndFailsItsJobWithoutRetry(Exception e)
    {
        Assert.Equal(CliApp.BadInput, CliApp.ExitCode(e));
        Assert.True(StageJobs.IsPermanent(e));
    }

    [Fact]
    public void OtherFailures_ExitWithCode1_AndOnlyADivergedRunIsNotRetried()
    {
        foreach (var e in new Exception[] { new IOException("disk full"), new InvalidOperationException("bug"), new TimeoutException("database") })
        {
            Assert.Equal(CliApp.Failure, CliApp.ExitCode(e));
            Assert.False(StageJobs.IsPermanent(e), e.GetType().Name);
        }
        // Training that diverged fails again when retried, but the input was not at fault.
        var diverged = new TrainingDivergedException(7, [1, 2], null);
        Assert.Equal(CliApp.Failure, CliApp.ExitCode(diverged));
        Assert.True(StageJobs.IsPermanent(diverged));
    }

    [Fact]
    public void BadInputThrownByACommand_PrintsOneLine_AndExits2()
    {
        var (code, output, error) = Cli.CliRunner.Run("", "recipe", "check", Path.Combine(Path.GetTempPath(), $"missing-{Guid.NewGuid():N}.yaml"));
        Assert.Equal(CliApp.BadInput, code);
        Assert.Equal("", output);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.Contains("recipe file not found", error);
    }

    [Theory]
    [InlineData("--resume")]
    [InlineData("--cache-root")]
    public void SubmittingAPipeline_WithARecipesOnlyOption_IsOneLineExit2(string option)
    {
        var pipeline = Path.Combine(MultiTeacher.Experiments.DemoPaths.FindRecipes("pipelines"), "supernova-demo.yaml");
        string[] args = option == "--cache-root" ? ["submit", pipeline, option, Path.GetTempPath()] : ["submit", pipeline, option];

        var (code, output, error) = Cli.CliRunner.Run("", args);

        Assert.Equal(CliApp.BadInput, code);
        Assert.Equal("", output);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.Contains(option, error);
    }
}
