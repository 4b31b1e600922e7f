using System.Reflection;
using System.Text.RegularExpressions;

namespace MultiTeacher.Recipes;

/// <summary>
/// Starting recipes for `mt recipe init` and `mt recipe cp`: each is a plain recipe file in
/// Recipes/Templates (a new template is a new file there), with the paths a user must supply
/// written as path/to/... and marked FILL IN.
/// </summary>
public static partial class RecipeTemplates
{
    public const string Default = "single-teacher";

    /// <summary>The mark on every line whose path the user supplies.</summary>
    public const string FillIn = "FILL IN";

    private const string Prefix = "MultiTeacher.Recipes.Templates.";

    public static IReadOnlyList<string> Names() =>
        [.. Assembly.GetExecutingAssembly().GetManifestResourceNames()
            .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal) && n.EndsWith(".yaml", StringComparison.Ordinal))
            .Select(n => n[Prefix.Length..^".yaml".Length]).Order(StringComparer.Ordinal)];

    /// <summary>The template's text; an unknown name is bad input naming the known ones.</summary>
    public static string Text(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream($"{Prefix}{name}.yaml")
            ?? throw new BadInputException($"no recipe template '{name}' (templates: {string.Join(", ", Names())})");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>Writes the template to a new file (never over an existing one) and returns its full path.</summary>
    public static string Write(string name, string path)
    {
        var text = Text(name);
        var full = Path.GetFullPath(path);
        if (File.Exists(full) || Directory.Exists(full)) throw new BadInputException($"{full} already exists; choose another path");
        if (Path.GetDirectoryName(full) is { } dir) Directory.CreateDirectory(dir);
        // The first line tells how to run the file: with the name it now has.
        File.WriteAllText(full, text.Replace("recipe.yaml", path, StringComparison.Ordinal));
        return full;
    }

    /// <summary>The paths a user must supply (the path/to/... values on lines marked FILL IN), in order.</summary>
    public static IReadOnlyList<string> Placeholders(string text) =>
        [.. text.Split('\n').Where(l => l.Contains("# " + FillIn, StringComparison.Ordinal))
            .Select(l => PlaceholderPath().Match(l)).Where(m => m.Success).Select(m => m.Value).Distinct()];

    [GeneratedRegex(@"path/to/[^\s,}#]+")]
    private static partial Regex PlaceholderPath();
}
