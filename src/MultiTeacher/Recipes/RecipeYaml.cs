using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;
using MultiTeacher.Settings;

namespace MultiTeacher.Recipes;

/// <summary>
/// Writes a recipe as YAML by walking its schema: every key with its value, in declaration order.
/// The plain form is what lineage stores and reads back; the annotated form (`mt recipe show`) adds
/// each key's documentation and default as comments.
/// </summary>
public static class RecipeYaml
{
    public const string SourceHeader = "# resolved from ";
    private const string OverrideHeader = "# override ";
    private static readonly JsonSerializerOptions Quoting = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Write(Recipe recipe, IReadOnlyDictionary<string, string> hashes, bool annotate = false) =>
        Write(recipe, SettingsSchema.For<Recipe>(), recipe.Source, recipe.Overrides.Select(o => $"{OverrideHeader}{o.ReplaceLineEndings(" ")}").ToList(), hashes, annotate);

    /// <summary>Any settings record by its schema, after the source header and the given comment lines.</summary>
    public static string Write(object settings, SettingsSchema schema, string source, IReadOnlyList<string> comments, IReadOnlyDictionary<string, string> hashes, bool annotate = false)
    {
        var yaml = new StringBuilder($"{SourceHeader}{source}\n");
        foreach (var c in comments) yaml.Append(c).Append('\n');
        Section(yaml, settings, schema, "", annotate);
        if (hashes.Count > 0)
        {
            yaml.Append("hashes:\n");
            foreach (var (key, hash) in hashes.OrderBy(kv => kv.Key, StringComparer.Ordinal)) yaml.Append($"  {Scalar(key)}: sha256:{hash}\n");
        }
        return yaml.ToString();
    }

    /// <summary>The overrides a resolved recipe records in its header comments.</summary>
    public static IReadOnlyList<string> RecordedOverrides(string yaml) =>
        yaml.Split('\n').Skip(1).TakeWhile(l => l.StartsWith(OverrideHeader, StringComparison.Ordinal)).Select(l => l[OverrideHeader.Length..]).ToList();

    private static void Section(StringBuilder yaml, object value, SettingsSchema schema, string indent, bool annotate, string firstIndent = "")
    {
        var lineIndent = firstIndent.Length > 0 ? firstIndent : indent;
        foreach (var member in schema.Members)
        {
            switch (member)
            {
                case SettingField f when f.Property.GetValue(value) is { } v:
                    var line = $"{lineIndent}{f.Key}: {Scalar(v)}";
                    yaml.Append(annotate ? $"{line.PadRight(48)} # {f.Doc}{Default(f)}\n" : line + "\n");
                    break;
                case SettingSection s when s.Property.GetValue(value) is null:
                    break;
                case SettingSection s:
                    var sub = s.Property.GetValue(value)!;
                    var doc = annotate ? $"{lineIndent}{s.Key}:".PadRight(48) + $" # {s.Declaration.Doc}" : $"{lineIndent}{s.Key}:";
                    if (s.IsList && ((System.Collections.IList)sub).Count == 0) { yaml.Append(doc.Replace($"{s.Key}:", $"{s.Key}: []") + "\n"); break; }
                    yaml.Append(doc + "\n");
                    if (!s.IsList) { Section(yaml, sub, s.Schema, indent + "  ", annotate); break; }
                    foreach (var item in (System.Collections.IEnumerable)sub) Section(yaml, item, s.Schema, indent + "    ", annotate, indent + "  - ");
                    break;
            }
            lineIndent = indent;
        }
    }

    private static string Default(SettingField f) => f.Default switch
    {
        _ when f.Declaration.Required => "",
        null => "",
        string { Length: 0 } => "",
        var d => $" (default {Scalar(d)})",
    };

    /// <summary>A YAML scalar that reads back as the same text: plain where that is unambiguous, else double-quoted.</summary>
    public static string Scalar(object value) => value switch
    {
        Enum e => SettingNames.Of(e),
        bool b => b ? "true" : "false",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        IFormattable n => n.ToString(null, CultureInfo.InvariantCulture),
        string s when Regex.IsMatch(s, @"^[A-Za-z0-9_./][A-Za-z0-9_./+@-]*$") => s,
        var other => JsonSerializer.Serialize(other.ToString(), Quoting),
    };
}
