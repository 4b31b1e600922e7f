using System.Reflection;
using MultiTeacher.Settings;

namespace MultiTeacher.Recipes;

/// <summary>The kind of value a setting holds, from its property type.</summary>
public enum ValueKind
{
    Integer,
    Number,
    Boolean,
    String,
    Enum,
}

/// <summary>One declared key of a section: its property, declaration, value kind, default and limits.</summary>
public sealed record SettingField(PropertyInfo Property, SettingAttribute Declaration, ValueKind Kind, object? Default)
{
    public string Key => Declaration.Key;
    public string Doc => Declaration.Doc;
    public Type ValueType => System.Nullable.GetUnderlyingType(Property.PropertyType) ?? Property.PropertyType;


    /// <summary>Inclusive lower and upper bounds: the declared ones, else the type's.</summary>
    public (double Min, double Max) Bounds => (
        double.IsNaN(Declaration.Min) ? ValueType == typeof(int) ? int.MinValue : long.MinValue : Declaration.Min,
        double.IsNaN(Declaration.Max) ? ValueType == typeof(int) ? int.MaxValue : long.MaxValue : Declaration.Max);

    public int MaxLength => Declaration.MaxLength > 0 ? Declaration.MaxLength : Declaration.Path == PathUse.None ? 200 : 4096;

    /// <summary>The allowed spellings of an enum or choice setting, else null.</summary>
    public string[]? Choices => Kind == ValueKind.Enum ? SettingNames.All(ValueType) : Declaration.Choices;
}

/// <summary>A nested section: one mapping, or a list of mappings of the same settings.</summary>
public sealed record SettingSection(PropertyInfo Property, SectionAttribute Declaration, SettingsSchema Schema, bool IsList)
{
    public string Key => Declaration.Key;
}

/// <summary>
/// The schema of a settings record, read from its [Setting] and [Section] declarations in
/// declaration order. Parsing, the unknown-key check, the resolved YAML, `mt recipe show` and the
/// JSON Schema all walk it, so a key is declared once, on its property.
/// </summary>
public sealed class SettingsSchema
{
    private static readonly Dictionary<Type, SettingsSchema> Known = [];

    public Type Type { get; }
    /// <summary>Fields and sections, each a <see cref="SettingField"/> or a <see cref="SettingSection"/>.</summary>
    public IReadOnlyList<object> Members { get; }
    public IReadOnlyList<string> Keys { get; }

    private SettingsSchema(Type type)
    {
        Type = type;
        var defaults = Activator.CreateInstance(type);
        var members = new List<object>();
        foreach (var p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).OrderBy(p => p.MetadataToken))
        {
            if (p.GetCustomAttribute<SettingAttribute>() is { } s) members.Add(new SettingField(p, s, KindOf(p), p.GetValue(defaults)));
            else if (p.GetCustomAttribute<SectionAttribute>() is { } section)
            {
                var list = p.PropertyType.IsGenericType && p.PropertyType.GetGenericTypeDefinition() == typeof(IReadOnlyList<>);
                members.Add(new SettingSection(p, section, For(list ? p.PropertyType.GetGenericArguments()[0] : p.PropertyType), list));
            }
        }
        Members = members;
        Keys = members.Select(m => m is SettingField f ? f.Key : ((SettingSection)m).Key).ToArray();
    }

    public static SettingsSchema For(Type type)
    {
        lock (Known)
        {
            if (!Known.TryGetValue(type, out var schema)) Known[type] = schema = new SettingsSchema(type);
            return schema;
        }
    }

    public static SettingsSchema For<T>() => For(typeof(T));

    public IEnumerable<SettingField> Fields => Members.OfType<SettingField>();
    public IEnumerable<SettingSection> Sections => Members.OfType<SettingSection>();

    private static ValueKind KindOf(PropertyInfo p)
    {
        var t = Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType;
        if (t.IsEnum) return ValueKind.Enum;
        if (t == typeof(int) || t == typeof(long)) return ValueKind.Integer;
        if (t == typeof(double)) return ValueKind.Number;
        if (t == typeof(bool)) return ValueKind.Boolean;
        if (t == typeof(string)) return ValueKind.String;
        throw new InvalidOperationException($"{p.DeclaringType?.Name}.{p.Name}: settings hold integers, numbers, booleans, strings or enums");
    }
}
