using System.Text;

namespace MultiTeacher.Settings;

/// <summary>The snake_case names by which recipes and the CLI spell enum values (FirstToken is first_token).</summary>
public static class SettingNames
{
    public static string Of(Enum value) => Snake(value.ToString());

    /// <summary>Every name of an enum, in declaration order.</summary>
    public static string[] All(Type enumType) =>
        enumType.GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static).Select(f => Snake(f.Name)).ToArray();

    public static string[] All<T>() where T : struct, Enum => All(typeof(T));

    public static bool TryParse(Type enumType, string name, out object value)
    {
        foreach (var v in Enum.GetValues(enumType))
            if (Of((Enum)v) == name) { value = v; return true; }
        value = null!;
        return false;
    }

    public static T Parse<T>(string name) where T : struct, Enum =>
        TryParse(typeof(T), name, out var value) ? (T)value
            : throw new ArgumentException($"unknown {Snake(typeof(T).Name).Replace('_', ' ')} '{name}' (expected one of: {string.Join(", ", All<T>())})");

    private static string Snake(string name)
    {
        var s = new StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsUpper(name[i])) s.Append('_');
            s.Append(char.ToLowerInvariant(name[i]));
        }
        return s.ToString();
    }
}
