using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace MultiTeacher.Recipes;

/// <summary>A recipe as far as it could be read, and every problem found; the recipe is null when the YAML itself is unreadable.</summary>
public sealed record RecipeReading(Recipe? Recipe, IReadOnlyList<RecipeError> Errors);

/// <summary>Parses and validates recipe YAML; throws <see cref="RecipeException"/> listing every problem with file:line:column.</summary>
public static class RecipeLoader
{
    /// <summary>Recipes are small; a larger file is a mistake, and bounding it bounds the parser's work.</summary>
    public const int MaxBytes = 1 << 20;
    /// <summary>Recipes nest three levels; deeper input is refused before a tree is built from it.</summary>
    public const int MaxDepth = 32;

    /// <param name="overrides">KEY.PATH=VALUE settings applied on top of the file, validated like it.</param>
    /// <param name="variables">Values of ${NAME} in paths, before the environment (MT_ASSETS defaults to the asset cache).</param>
    public static Recipe Load(string path, IReadOnlyList<string>? overrides = null, IReadOnlyDictionary<string, string>? variables = null) =>
        Valid(Read(path, overrides, variables));

    /// <summary>Reads and validates a recipe file without throwing: what could be read, and every problem.</summary>
    public static RecipeReading Read(string path, IReadOnlyList<string>? overrides = null, IReadOnlyDictionary<string, string>? variables = null)
    {
        var file = System.IO.Path.GetFullPath(path);
        if (!File.Exists(file)) return new(null, [new RecipeError(file, 0, 0, "recipe file not found")]);
        if (new FileInfo(file).Length > MaxBytes) return new(null, [new RecipeError(file, 0, 0, $"a recipe is at most {MaxBytes / 1024} KB")]);
        return Parse(File.ReadAllText(file), file, overrides ?? [], resolved: false, out _, variables);
    }

    /// <summary>
    /// Reads a resolved recipe as lineage stores it (see <see cref="ResolvedRecipe.ToYaml"/>), returning
    /// the recorded input hashes with it; jobs and audits run exactly what was submitted.
    /// </summary>
    public static Recipe LoadResolved(string resolvedYaml, out IReadOnlyDictionary<string, string> hashes) => Valid(ReadResolved(resolvedYaml, out hashes));

    /// <summary><see cref="LoadResolved"/> without throwing: what could be read, and every problem.</summary>
    public static RecipeReading ReadResolved(string resolvedYaml, out IReadOnlyDictionary<string, string> hashes)
    {
        // Its first line names the file it was resolved from: errors point there, and Source stays that file.
        var first = resolvedYaml.AsSpan(0, Math.Max(0, resolvedYaml.IndexOf('\n')));
        var source = first.StartsWith(RecipeYaml.SourceHeader) ? first[RecipeYaml.SourceHeader.Length..].ToString() : "resolved recipe";
        var reading = Parse(resolvedYaml, System.IO.Path.GetFullPath(source), [], resolved: true, out hashes);
        return reading with { Recipe = reading.Recipe is { } r ? r with { Overrides = RecipeYaml.RecordedOverrides(resolvedYaml) } : null };
    }

    private static Recipe Valid(RecipeReading reading) => reading.Errors.Count > 0 ? throw new RecipeException(reading.Errors) : reading.Recipe!;

    private static RecipeReading Parse(string text, string file, IReadOnlyList<string> overrides, bool resolved, out IReadOnlyDictionary<string, string> hashes,
        IReadOnlyDictionary<string, string>? variables = null)
    {
        hashes = new Dictionary<string, string>();
        if (Load(text, file) is not { } root) return new(null, [new RecipeError(file, 1, 1, "a recipe is one YAML mapping")]);
        if (root is RecipeError error) return new(null, [error]);

        var r = new SettingsReader(file, variables);
        var map = (YamlMappingNode)root;
        RecipeOverrides.Apply(r, map, overrides);
        var recipe = (Recipe)r.Read(map, SettingsSchema.For<Recipe>(), "the recipe", resolved ? ["hashes"] : null) with { Source = file, Overrides = overrides };
        if (resolved) hashes = Hashes(r, map);
        recipe = RecipeRules.Check(r, map, recipe);
        return new(recipe, r.Errors);
    }

    /// <summary>The root mapping, a located error, or null when the text is not one mapping.</summary>
    internal static object? Load(string text, string file)
    {
        try
        {
            // The representation model recurses per level; count the depth on the flat event stream first.
            var parser = new Parser(new StringReader(text));
            var depth = 0;
            while (parser.MoveNext())
                if (parser.Current is MappingStart or SequenceStart && ++depth > MaxDepth)
                    return new RecipeError(file, parser.Current.Start.Line, parser.Current.Start.Column, $"nested more than {MaxDepth} levels deep");
                else if (parser.Current is MappingEnd or SequenceEnd) depth--;
            var yaml = new YamlStream();
            yaml.Load(new StringReader(text));
            return yaml.Documents.Count == 1 && yaml.Documents[0].RootNode is YamlMappingNode root ? root : null;
        }
        catch (YamlException e)
        {
            return new RecipeError(file, e.Start.Line, e.Start.Column, $"not valid YAML: {e.InnerException?.Message ?? e.Message}");
        }
    }

    internal static Dictionary<string, string> Hashes(SettingsReader r, YamlMappingNode root)
    {
        var hashes = new Dictionary<string, string>();
        switch (r.Node(root, "hashes"))
        {
            case YamlMappingNode map:
                foreach (var (key, value) in map.Children)
                    if (value is YamlScalarNode { Value: { } v } && v.StartsWith("sha256:", StringComparison.Ordinal)) hashes[key.ToString()] = v["sha256:".Length..];
                    else r.Error(value, $"hash of '{key}' must read sha256:HEX");
                break;
            case { } other:
                r.Error(other, "'hashes' must be a mapping");
                break;
        }
        return hashes;
    }
}
