namespace MultiTeacher.Settings;

/// <summary>How a string setting names a file or directory.</summary>
public enum PathUse
{
    /// <summary>Not a path.</summary>
    None,
    /// <summary>An input that must exist (hashed into the resolved recipe).</summary>
    Input,
    /// <summary>An output location, created when the run writes it.</summary>
    Output,
}

/// <summary>
/// Declares one recipe key on a settings property: its YAML name, one-line documentation and
/// limits. The property's type gives the value's type, its initial value the default; the recipe
/// schema reads these declarations for parsing, the unknown-key check, display and JSON Schema.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class SettingAttribute(string key, string doc) : Attribute
{
    public string Key { get; } = key;
    public string Doc { get; } = doc;
    /// <summary>Smallest allowed number (NaN: the type's own limit).</summary>
    public double Min { get; set; } = double.NaN;
    /// <summary>Largest allowed number (NaN: the type's own limit).</summary>
    public double Max { get; set; } = double.NaN;
    /// <summary>The value must be strictly above <see cref="Min"/>.</summary>
    public bool ExclusiveMin { get; set; }
    /// <summary>Longest allowed string (0: 200 characters, 4096 for paths).</summary>
    public int MaxLength { get; set; }
    /// <summary>A regular expression the whole string must match.</summary>
    public string? Pattern { get; set; }
    /// <summary>What <see cref="Pattern"/> allows, in words, for the error message.</summary>
    public string? PatternHint { get; set; }
    /// <summary>The allowed strings, for string settings that are not enums.</summary>
    public string[]? Choices { get; set; }
    public bool Required { get; set; }
    public PathUse Path { get; set; }
}

/// <summary>Declares a nested section of settings (a mapping, or a list of mappings) under its YAML key.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class SectionAttribute(string key, string doc) : Attribute
{
    public string Key { get; } = key;
    public string Doc { get; } = doc;
    public bool Required { get; set; }
}
