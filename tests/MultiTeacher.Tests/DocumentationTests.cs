using System.Text.RegularExpressions;
using MultiTeacher.Recipes;
using MultiTeacher.Tests.Recipes;

namespace MultiTeacher.Tests;

/// <summary>What README.md and docs/*.md show works: their recipe examples load, and their links lead somewhere.</summary>
[Trait("Category", TestCategory.Unit)]
public sealed partial class DocumentationTests : TempDirectoryTest
{
    private static IEnumerable<string> Pages()
    {
        var root = RecipeLoaderTests.RepoRoot();
        return Directory.GetFiles(Path.Combine(root, "docs"), "*.md").Prepend(Path.Combine(root, "README.md")).Order();
    }

    [Fact]
    public void EveryRecipeExample_IsValidYamlThatTheRecipeLoaderAccepts_BarTheUsersOwnFiles()
    {
        var examples = 0;
        foreach (var page in Pages())
            foreach (Match block in YamlBlock().Matches(File.ReadAllText(page)))
            {
                var text = block.Groups[1].Value;
                var pipeline = Regex.IsMatch(text, @"^stages:", RegexOptions.Multiline);
                if (!pipeline && !Regex.IsMatch(text, @"^(teachers|student|data):", RegexOptions.Multiline)) continue;
                examples++;
                var file = Path.Combine(TempDir, $"example-{examples}.yaml");
                File.WriteAllText(file, text);
                var reading = pipeline ? PipelineReading(file) : RecipeLoader.Read(file);
                var where = $"{Path.GetFileName(page)}, recipe example {examples}";
                Assert.True(reading.Recipe is not null, $"{where}: {string.Join("; ", reading.Errors)}");
                // The example names the user's data and models, which are not here; anything else is wrong with the example.
                var others = reading.Errors.Where(e => !e.Message.Contains("does not exist", StringComparison.Ordinal)).ToList();
                Assert.True(others.Count == 0, $"{where}: {string.Join("; ", others)}");
            }
        Assert.True(examples > 0, "no recipe example found in README.md or docs/");
    }

    /// <summary>A pipeline example read as such; its errors in the shape of a recipe's, so both are judged alike.</summary>
    private static RecipeReading PipelineReading(string file)
    {
        var reading = MultiTeacher.Pipelines.PipelineLoader.Read(file);
        return new RecipeReading(reading.Pipeline is null ? null : new Recipe(), reading.Errors);
    }

    [Fact]
    public void EveryRelativeLink_LeadsToAFileOrFolderOfTheRepository()
    {
        var root = RecipeLoaderTests.RepoRoot();
        var broken = new List<string>();
        foreach (var page in Pages())
            foreach (Match link in Link().Matches(File.ReadAllText(page)))
            {
                var target = link.Groups[1].Value.Split('#')[0];
                if (target.Length == 0 || Regex.IsMatch(target, "^[a-z][a-z0-9+.-]*:", RegexOptions.IgnoreCase)) continue;
                var full = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(page)!, Uri.UnescapeDataString(target)));
                if (!full.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal) || !(File.Exists(full) || Directory.Exists(full)))
                    broken.Add($"{Path.GetRelativePath(root, page)}: {link.Groups[1].Value}");
            }
        Assert.True(broken.Count == 0, "broken links: " + string.Join(", ", broken));
    }

    [Fact]
    public void EveryRepositoryPathNamedInAPage_Exists()
    {
        var root = RecipeLoaderTests.RepoRoot();
        var missing = new List<string>();
        foreach (var page in Pages())
            foreach (Match path in RepositoryPath().Matches(File.ReadAllText(page)))
                if (!File.Exists(Path.Combine(root, path.Value)))
                    missing.Add($"{Path.GetRelativePath(root, page)}: {path.Value}");
        Assert.True(missing.Count == 0, "paths that do not exist: " + string.Join(", ", missing));
    }

    [GeneratedRegex(@"(?<![\w./-])(?:recipes|scripts|tools|benchmarks)/[A-Za-z0-9_./-]+\.(?:yaml|sh|py)\b")]
    private static partial Regex RepositoryPath();

    [GeneratedRegex(@"^```ya?ml\s*\n(.*?)^```", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex YamlBlock();

    [GeneratedRegex(@"\]\(\s*<?([^)\s>]+)>?(?:\s+""[^""]*"")?\s*\)")]
    private static partial Regex Link();
}
