using System.Globalization;
using System.Text.RegularExpressions;
using MultiTeacher.Settings;
using YamlDotNet.RepresentationModel;

namespace MultiTeacher.Recipes;

/// <summary>
/// Reads settings records out of YAML mappings by their <see cref="SettingsSchema"/>, collecting an
/// error (with line and column) for every missing, mistyped, out-of-range or unknown key instead of
/// stopping at the first.
/// </summary>
internal sealed class SettingsReader(string file, IReadOnlyDictionary<string, string>? variables = null)
{
    public List<RecipeError> Errors { get; } = [];
    public string File { get; } = file;

    /// <summary>Nodes that came from a command-line override, with its text: errors name the override, paths are relative to the working directory.</summary>
    public Dictionary<YamlNode, string> Overridden { get; } = new(ReferenceEqualityComparer.Instance);

    /// <summary>Inputs that an earlier stage of a pipeline will write: they count as existing.</summary>
    public HashSet<string> Planned { get; } = [];

    public void Error(YamlNode node, string message) => Errors.Add(Overridden.TryGetValue(node, out var o)
        ? new RecipeError(File, 0, 0, $"override '{o}': {message}")
        : new RecipeError(File, node.Start.Line, node.Start.Column, message));

    public YamlNode? Node(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var node) ? node : null;

    /// <summary>Reports keys of the mapping that the schema does not know, with the closest known key.</summary>
    public void RejectUnknown(YamlMappingNode map, string section, IReadOnlyList<string> known)
    {
        foreach (var key in map.Children.Keys)
            if (key is not YamlScalarNode { Value: { } name }) Error(key, $"keys in {section} are plain names");
            else if (!known.Contains(name))
            {
                // A long key resembles none: skip the quadratic distance.
                var guess = name.Length > 64 ? "" : $"did you mean '{known.OrderBy(k => Distance(k, name)).First()}'? ";
                Error(key, $"unknown key '{Shorten(name)}' in {section} ({guess}known: {string.Join(", ", known)})");
            }
    }

    /// <summary>A settings record from a mapping: declared defaults, overwritten by each valid key present.</summary>
    public object Read(YamlMappingNode map, SettingsSchema schema, string section, IReadOnlyList<string>? extraKeys = null)
    {
        RejectUnknown(map, section, extraKeys is null ? schema.Keys : [.. schema.Keys, .. extraKeys]);
        var value = Activator.CreateInstance(schema.Type)!;
        foreach (var member in schema.Members)
            switch (member)
            {
                case SettingField f:
                    var node = Node(map, f.Key);
                    if (node is null) { if (f.Declaration.Required) Error(map, $"missing required key '{f.Key}'"); }
                    else if (Scalar(node, f) is { } v) f.Property.SetValue(value, v);
                    break;
                case SettingSection s:
                    if (ReadSection(map, s) is { } sub) s.Property.SetValue(value, sub);
                    break;
            }
        return value;
    }

    private object? ReadSection(YamlMappingNode map, SettingSection s)
    {
        switch (Node(map, s.Key))
        {
            case null:
                if (s.Declaration.Required) Error(map, $"missing section '{s.Key}'");
                return null;
            case YamlMappingNode m when !s.IsList:
                return Read(m, s.Schema, s.Key);
            case YamlSequenceNode seq when s.IsList:
                var items = Array.CreateInstance(s.Schema.Type, seq.Children.Count);
                for (var i = 0; i < seq.Children.Count; i++)
                    if (seq.Children[i] is YamlMappingNode item) items.SetValue(Read(item, s.Schema, $"{s.Key}[{i}]"), i);
                    else
                    {
                        Error(seq.Children[i], $"each entry of '{s.Key}' is a mapping ({string.Join(", ", s.Schema.Keys)})");
                        items.SetValue(Activator.CreateInstance(s.Schema.Type), i);
                    }
                return items;
            case var other:
                Error(other, s.IsList ? $"'{s.Key}' must be a list" : $"'{s.Key}' must be a mapping");
                return null;
        }
    }

    private object? Scalar(YamlNode node, SettingField f)
    {
        var key = f.Key;
        if (node is not YamlScalarNode { Value: { } text })
        {
            Error(node, f.Kind switch
            {
                ValueKind.Integer => $"'{key}' must be an integer",
                ValueKind.Number => $"'{key}' must be a number",
                ValueKind.Boolean => $"'{key}' must be true or false",
                _ => $"'{key}' must be a string",
            });
            return null;
        }
        var (min, max) = f.Bounds;
        switch (f.Kind)
        {
            case ValueKind.Integer:
                if (!Regex.IsMatch(text, @"^[-+]?[0-9]+$")) { Error(node, $"'{key}' must be an integer"); return null; }
                // Digits beyond long's range still get the range message, not a silent wrap.
                if (!long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) || n < min || n > max)
                {
                    Error(node, $"'{key}' is {text}, expected {Range(min, max)}");
                    return null;
                }
                return f.ValueType == typeof(int) ? (object)(int)n : n;
            case ValueKind.Number:
                if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) || !double.IsFinite(d))
                {
                    Error(node, $"'{key}' must be a number");
                    return null;
                }
                if (d < min || d > max || f.Declaration.ExclusiveMin && d == min)
                {
                    var expected = f.Declaration.ExclusiveMin ? $"> {Format(min)}{(double.IsNaN(f.Declaration.Max) ? "" : $" and <= {Format(max)}")}" : Range(min, max);
                    Error(node, $"'{key}' is {d.ToString(CultureInfo.InvariantCulture)}, expected {expected}");
                    return null;
                }
                return d;
            case ValueKind.Boolean:
                if (text is "true" or "false") return text == "true";
                Error(node, $"'{key}' must be true or false");
                return null;
            case ValueKind.Enum:
                if (SettingNames.TryParse(f.ValueType, text, out var e)) return e;
                Error(node, $"'{key}' is '{Shorten(text)}', expected one of: {string.Join(", ", f.Choices!)}");
                return null;
            default:
                if (text.Length > f.MaxLength) { Error(node, $"'{key}' is {text.Length} characters long, at most {f.MaxLength}"); return null; }
                if (f.Choices is { } choices && !choices.Contains(text)) { Error(node, $"'{key}' is '{text}', expected one of: {string.Join(", ", choices)}"); return null; }
                if (f.Declaration.Pattern is { } pattern && !Regex.IsMatch(text, pattern))
                {
                    Error(node, $"'{key}' is '{text}': use {f.Declaration.PatternHint ?? pattern}");
                    return null;
                }
                return f.Declaration.Path == PathUse.None ? text : Path(node, key, text, f.Declaration.Path == PathUse.Input);
        }
    }

    /// <summary>
    /// A path relative to the recipe's folder (an override's: the working directory), made absolute;
    /// inputs must exist. ${NAME} is replaced by the loader's variable of that name, else by that environment
    /// variable (MT_ASSETS defaults to the asset cache).
    /// </summary>
    private string Path(YamlNode node, string key, string raw, bool mustExist)
    {
        var expanded = Regex.Replace(raw, @"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", m =>
        {
            var value = variables is not null && variables.TryGetValue(m.Groups[1].Value, out var given) ? given : Environment.GetEnvironmentVariable(m.Groups[1].Value);
            if (string.IsNullOrEmpty(value) && m.Groups[1].Value == "MT_ASSETS") value = Assets.AssetStore.DefaultRoot();
            if (string.IsNullOrEmpty(value)) Error(node, $"'{key}' uses ${{{m.Groups[1].Value}}}, which is not set");
            return value ?? "";
        });
        var folder = Overridden.ContainsKey(node) ? Environment.CurrentDirectory : System.IO.Path.GetDirectoryName(File)!;
        var full = System.IO.Path.GetFullPath(System.IO.Path.Combine(folder, expanded));
        if (!mustExist || System.IO.File.Exists(full) || Directory.Exists(full) || Planned.Contains(full)) return full;
        // A Hugging Face id (org/name) that is no local path is read from the local Hugging Face cache.
        if (expanded == raw && Models.HubCache.IsModelId(raw) && Models.HubCache.Find(raw) is { } snapshot) return snapshot;
        Error(node, $"'{key}': {full} does not exist" + (expanded == raw && Models.HubCache.IsModelId(raw) ? $", and {Models.HubCache.Missing(raw)}" : ""));
        return full;
    }

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..60] + "…";

    private static string Format(double v) => v.ToString(CultureInfo.InvariantCulture);

    private static string Range(double min, double max) =>
        max >= long.MaxValue ? $">= {Format(min)}" : $"between {Format(min)} and {Format(max)}";

    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (var j = 0; j <= b.Length; j++) d[0, j] = j;
        for (var i = 1; i <= a.Length; i++)
            for (var j = 1; j <= b.Length; j++)
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
        return d[a.Length, b.Length];
    }
}
