using MultiTeacher.Recipes;
using MultiTeacher.Tests.Cli;
using MultiTeacher.Tests.Integration;

namespace MultiTeacher.Tests.Recipes;

/// <summary>`mt recipe init` and `mt recipe cp`: every template passes `mt recipe check` once its marked paths exist.</summary>
[Trait("Category", TestCategory.Unit)]
public sealed class RecipeTemplatesTests : TempDirectoryTest
{
    public static TheoryData<string> Templates() => [.. RecipeTemplates.Names()];

    [Fact]
    public void Templates_IncludeSingleTeacherThreeVocabulariesMergeAndPipeline()
    {
        Assert.Superset(new HashSet<string> { "single-teacher", "three-vocabularies", "merge", "pipeline" }, RecipeTemplates.Names().ToHashSet());
        Assert.Contains(RecipeTemplates.Default, RecipeTemplates.Names());
    }

    [Theory]
    [MemberData(nameof(Templates))]
    public void Copy_FailsCheckNamingEachMarkedPath_ThenPassesOnceTheyExist(string template)
    {
        var path = Path.Combine(TempDir, "mine", "recipe.yaml");
        var (code, output, error) = CliRunner.Run("", "recipe", "cp", template, path);
        Assert.True(code == 0, error);
        var placeholders = RecipeTemplates.Placeholders(File.ReadAllText(path));
        Assert.NotEmpty(placeholders);
        Assert.All(placeholders, p => Assert.Contains(p, output));
        Assert.StartsWith($"# mt run {path}", File.ReadAllText(path));

        var unfilled = CliRunner.Run("", "recipe", "check", path);
        Assert.Equal(2, unfilled.ExitCode);
        var dir = Path.GetDirectoryName(path)!;
        Assert.Equal(placeholders.Select(p => Path.Combine(dir, p)).Order(), unfilled.Error.Split('\n')
            .Select(l => System.Text.RegularExpressions.Regex.Match(l, @"'\w+': (\S+) does not exist")).Where(m => m.Success).Select(m => m.Groups[1].Value).Distinct().Order());

        Fill(dir, placeholders);
        var filled = CliRunner.Run("", "recipe", "check", path);
        Assert.True(filled.ExitCode == 0, filled.Error);
        Assert.Contains(": ok (", filled.Out);
    }

    /// <summary>Puts what each marked path asks for where it points: texts for data, real tiny models (with real tokenizers) for models.</summary>
    private static void Fill(string dir, IReadOnlyList<string> placeholders)
    {
        var runs = new TinyRuns(Directory.CreateTempSubdirectory("mt-template-").FullName);
        var seed = 1;
        foreach (var p in placeholders)
        {
            var full = Path.Combine(dir, p);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            if (p.EndsWith(".txt", StringComparison.Ordinal))
                File.WriteAllText(full, "Some text to train and evaluate on.\n\nAnother paragraph of it.");
            else
            {
                var (name, type, tokenizer, vocab) = TinyRuns.Teachers[seed % TinyRuns.Teachers.Length];
                Directory.Move(runs.WriteTeacher($"{name}-{seed}", type, tokenizer, vocab, seed++), full);
            }
        }
        Directory.Delete(runs.Root, recursive: true);
    }

    [Fact]
    public void Init_WritesTheDefaultTemplate_AndRefusesToOverwriteOrAnUnknownTemplate()
    {
        var path = Path.Combine(TempDir, "recipe.yaml");
        Assert.Equal(0, CliRunner.Run("", "recipe", "init", path).ExitCode);
        Assert.Equal(RecipeTemplates.Text(RecipeTemplates.Default).Replace("recipe.yaml", path), File.ReadAllText(path));
        var again = CliRunner.Run("", "recipe", "init", "--template", "merge", path);
        Assert.Equal(2, again.ExitCode);
        Assert.Equal($"mt: {path} already exists; choose another path", again.Error.Trim());
        Assert.Equal(RecipeTemplates.Text(RecipeTemplates.Default).Replace("recipe.yaml", path), File.ReadAllText(path));   // nothing lost
        var unknown = CliRunner.Run("", "recipe", "cp", "nope", Path.Combine(TempDir, "other.yaml"));
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("no recipe template 'nope' (templates: ", unknown.Error);
        Assert.False(File.Exists(Path.Combine(TempDir, "other.yaml")));
    }
}
