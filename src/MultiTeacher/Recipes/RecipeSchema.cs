using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace MultiTeacher.Recipes;

/// <summary>One problem in a recipe file, located by line and column.</summary>
public sealed record RecipeError(string File, long Line, long Column, string Message)
{
    public override string ToString() => $"{File}:{Line}:{Column}: {Message}";
}

/// <summary>A recipe that failed validation; lists every problem found, not just the first.</summary>
public sealed class RecipeException(IReadOnlyList<RecipeError> errors)
    : BadInputException(string.Join(Environment.NewLine, errors))
{
    public IReadOnlyList<RecipeError> Errors { get; } = errors;
}

/// <summary>
/// Reads typed values out of a YAML mapping, collecting an error (with line and column) for every
/// missing, mistyped or unknown key instead of stopping at the first.
/// </summary>
internal sealed class RecipeReader(string file, IReadOnlyDictionary<string, string> variables)
{
    public List<RecipeError> Errors { get; } = [];
    public string File { get; } = file;

    public void Error(YamlNode node, string message) => Errors.Add(new RecipeError(File, node.Start.Line, node.Start.Column, message));

    /// <summary>Reports keys of the mapping that the schema does not know, with the closest known key.</summary>
    public void RejectUnknown(YamlMappingNode map, string section, params string[] known)
    {
        foreach (var key in map.Children.Keys.OfType<YamlScalarNode>())
            if (!known.Contains(key.Value))
            {
                var guess = known.OrderBy(k => Distance(k, key.Value ?? "")).First();
                Error(key, $"unknown key '{key.Value}' in {section} (did you mean '{guess}'? known: {string.Join(", ", known)})");
            }
    }

    public YamlNode? Node(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var node) ? node : null;

    public YamlMappingNode? Section(YamlMappingNode map, string key, bool required = false)
    {
        switch (Node(map, key))
        {
            case YamlMappingNode m: return m;
            case null when required: Error(map, $"missing section '{key}'"); return null;
            case null: return null;
            case var other: Error(other, $"'{key}' must be a mapping"); return null;
        }
    }

    public string? String(YamlMappingNode map, string key, string? fallback = null, bool required = false, string[]? oneOf = null)
    {
        var node = Node(map, key);
        if (node is null)
        {
            if (required) Error(map, $"missing required key '{key}'");
            return fallback;
        }
        if (node is not YamlScalarNode { Value: { } value }) { Error(node, $"'{key}' must be a string"); return fallback; }
        if (oneOf is not null && !oneOf.Contains(value)) { Error(node, $"'{key}' is '{value}', expected one of: {string.Join(", ", oneOf)}"); return fallback; }
        return value;
    }

    public long Integer(YamlMappingNode map, string key, long fallback, long min = long.MinValue, long max = long.MaxValue)
    {
        var node = Node(map, key);
        if (node is null) return fallback;
        if (node is not YamlScalarNode s || !long.TryParse(s.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v))
        {
            Error(node, $"'{key}' must be an integer");
            return fallback;
        }
        if (v < min || v > max) { Error(node, $"'{key}' is {v}, expected {Range(min, max)}"); return fallback; }
        return v;
    }

    public double Number(YamlMappingNode map, string key, double fallback, double min = double.NegativeInfinity, double max = double.PositiveInfinity, bool exclusiveMin = false)
    {
        var node = Node(map, key);
        if (node is null) return fallback;
        if (node is not YamlScalarNode s || !double.TryParse(s.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v))
        {
            Error(node, $"'{key}' must be a number");
            return fallback;
        }
        if (v < min || v > max || exclusiveMin && v == min)
        {
            Error(node, $"'{key}' is {v.ToString(CultureInfo.InvariantCulture)}, expected {(exclusiveMin ? "> " + min : Range(min, max))}");
            return fallback;
        }
        return v;
    }

    public bool Boolean(YamlMappingNode map, string key, bool fallback)
    {
        var node = Node(map, key);
        if (node is null) return fallback;
        if (node is YamlScalarNode { Value: "true" or "false" } s) return s.Value == "true";
        Error(node, $"'{key}' must be true or false");
        return fallback;
    }

    /// <summary>
    /// A path relative to the recipe's folder, made absolute; optionally required to exist.
    /// ${NAME} is replaced by the loader's variable of that name, else by that environment variable.
    /// </summary>
    public string? Path(YamlMappingNode map, string key, bool required, bool mustExist = true)
    {
        var raw = String(map, key, required: required);
        if (raw is null) return null;
        var expanded = System.Text.RegularExpressions.Regex.Replace(raw, @"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", m =>
        {
            var value = variables.TryGetValue(m.Groups[1].Value, out var given) ? given : Environment.GetEnvironmentVariable(m.Groups[1].Value);
            if (string.IsNullOrEmpty(value)) Error(Node(map, key)!, $"'{key}' uses ${{{m.Groups[1].Value}}}, which is not set");
            return value ?? "";
        });
        var full = System.IO.Path.GetFullPath(System.IO.Path.Combine(System.IO.Path.GetDirectoryName(File)!, expanded));
        if (mustExist && !System.IO.File.Exists(full) && !Directory.Exists(full)) Error(Node(map, key)!, $"'{key}': {full} does not exist");
        return full;
    }

    private static string Range(double min, double max) =>
        double.IsInfinity(max) || max == long.MaxValue ? $">= {min}" : $"between {min} and {max}";

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
