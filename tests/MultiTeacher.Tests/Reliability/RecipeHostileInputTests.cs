using MultiTeacher.Tests.Integration;
using Xunit.Abstractions;

namespace MultiTeacher.Tests.Reliability;

/// <summary>
/// Hostile recipes that the recipe parser must refuse with exit 2: nesting deep enough to overflow a
/// recursive parser (run as its own `mt` process, since a stack overflow ends the whole process),
/// integers that overflow their field, values beyond any sensible limit, and a name that walks out
/// of the working directory.
/// </summary>
[Trait("Category", TestCategory.Unit)]
public sealed class RecipeHostileInputTests(ITestOutputHelper output) : TempDirectoryTest
{
    private string Recipe(string name, string trainSection, string? nameLine = null)
    {
        var runs = new TinyRuns(TempDir);
        runs.WriteData(trainDocuments: 1, trainChars: 500);
        var config = runs.WriteConfig("s-" + name, "mistral", 32000);
        var path = Path.Combine(TempDir, name + ".yaml");
        File.WriteAllText(path, $$"""
            {{nameLine ?? $"name: {name}"}}
            data: { train: train.txt, seq_len: 32 }
            student: { config: {{config}}, tokenizer: {{TestAssets.TokenizerDir("mistral-7b-v0.1")}} }
            train: { {{trainSection}} }
            """);
        return path;
    }

    public static TheoryData<string, string> Overflows() => new()
    {
        { "steps-2pow32", "steps: 4294967296" },
        { "batch-2pow31", "batch_size: 2147483648" },
        { "batch-2e8", "batch_size: 200000000" },
        { "lr-1e300", "steps: 2, lr: 1e300" },
        { "steps-negative", "steps: -5" },
    };

    [Theory]
    [MemberData(nameof(Overflows))]
    public void OutOfRangeNumber_IsRefusedByRecipeCheck(string name, string train)
    {
        var outcome = Hostile.Cli("", "recipe", "check", Recipe(name, train));
        output.WriteLine(outcome.ToString());
        Hostile.AssertRefused(outcome, name + ".yaml");
    }

    [Fact]
    public void NestingFiftyThousandDeep_IsRefused_NotAStackOverflow()
    {
        var path = Path.Combine(TempDir, "deep.yaml");
        File.WriteAllText(path, "name: deep\ndata: " + new string('[', 50_000) + new string(']', 50_000) + "\n");
        var outcome = Hostile.Process(null, null, "recipe", "check", path);
        output.WriteLine(outcome.ToString()[..Math.Min(400, outcome.ToString().Length)]);
        Hostile.AssertRefused(outcome, "deep.yaml");
    }

    [Fact]
    public void TenMegabyteName_IsRefused()
    {
        // Refused whole: a recipe file over 1 MB is not parsed at all.
        var outcome = Hostile.Cli("", "recipe", "check", Recipe("long", "steps: 2", "name: " + new string('n', 10 << 20)));
        Hostile.AssertRefused(outcome, "long.yaml", "at most");
    }

    [Fact]
    public void NameWithPathTraversal_IsRefusedOrStaysInsideTheWorkingDirectory()
    {
        var outcome = Hostile.Cli("", "recipe", "check", Recipe("walk", "steps: 2", "name: ../../../x"));
        Assert.False(outcome.TimedOut);
        if (outcome.ExitCode == 0) Assert.StartsWith(Directory.GetCurrentDirectory(), outcome.Out.Split("output ").Last().Trim().TrimEnd(')'));
        else Hostile.AssertRefused(outcome, "walk.yaml");
    }
}
