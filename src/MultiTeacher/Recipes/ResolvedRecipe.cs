namespace MultiTeacher.Recipes;

/// <summary>
/// The fully resolved recipe: every default filled in, every path absolute, and the sha256 of every
/// input (data, teachers, student, tokenizers). Its YAML is what a run's lineage stores.
/// </summary>
public sealed record ResolvedRecipe(Recipe Recipe, IReadOnlyDictionary<string, string> Hashes)
{
    public static ResolvedRecipe Resolve(Recipe r) =>
        new(r, Inputs(r).ToDictionary(kv => kv.Key, kv => ContentHash.Of(kv.Value)));

    /// <summary>Hashes only the inputs that exist: for showing a recipe whose other inputs are missing.</summary>
    public static ResolvedRecipe ResolveExisting(Recipe r) =>
        new(r, Inputs(r).Where(kv => File.Exists(kv.Value) || Directory.Exists(kv.Value)).ToDictionary(kv => kv.Key, kv => ContentHash.Of(kv.Value)));

    /// <summary>
    /// Every input file or directory of the recipe by key, from the schema's input paths: data.train,
    /// student.init, and teachers.NAME for each item of a list.
    /// </summary>
    public static Dictionary<string, string> Inputs(Recipe r) => Inputs(r, SettingsSchema.For<Recipe>());

    /// <summary>Every input path of any settings record by key (list items by their name, else their index).</summary>
    public static Dictionary<string, string> Inputs(object settings, SettingsSchema schema)
    {
        var inputs = new Dictionary<string, string>();
        Collect(settings, schema, "", inputs);
        return inputs;
    }

    private static void Collect(object value, SettingsSchema schema, string prefix, Dictionary<string, string> inputs)
    {
        var paths = schema.Fields.Where(f => f.Declaration.Path == Settings.PathUse.Input).ToList();
        foreach (var f in paths)
            if (f.Property.GetValue(value) is string { Length: > 0 } path)
                // A named item's main path is keyed by the item alone (teachers.NAME), its other paths by their key.
                inputs[(paths.Count == 1 || f.Key == "path") && prefix.Length > 0 && schema.Keys.Contains("name") ? prefix.TrimEnd('.') : prefix + f.Key] = path;
        foreach (var s in schema.Sections)
        {
            if (s.Property.GetValue(value) is not { } sub) continue;
            if (!s.IsList) { Collect(sub, s.Schema, $"{prefix}{s.Key}.", inputs); continue; }
            var name = s.Schema.Fields.FirstOrDefault(f => f.Key == "name");
            var index = 0;
            foreach (var item in (System.Collections.IEnumerable)sub) Collect(item, s.Schema, $"{prefix}{s.Key}.{name?.Property.GetValue(item) ?? index++}.", inputs);
        }
    }

    public string ToYaml() => RecipeYaml.Write(Recipe, Hashes);

    /// <summary>The YAML with each key's documentation and default as comments, as `mt recipe show` prints it.</summary>
    public string ToAnnotatedYaml() => RecipeYaml.Write(Recipe, Hashes, annotate: true);
}
