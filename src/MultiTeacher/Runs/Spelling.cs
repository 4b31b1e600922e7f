using System.Collections.Frozen;
using System.Text;

namespace MultiTeacher.Runs;

/// <summary>
/// The one mapping between the lifecycle enums and their spelling in the database, the CLI and the
/// dashboard: the member name in kebab case (CacheTeacher is "cache-teacher", BadInput "bad-input").
/// The spellings are those the migrations' CHECK constraints list, so existing databases keep working.
/// </summary>
public static class Spelling
{
    public static string Of<T>(T value) where T : struct, Enum => Names<T>.ToText[value];

    /// <summary>The value spelled so; a spelling no member has is corrupt data.</summary>
    public static T Parse<T>(string text) where T : struct, Enum => Names<T>.FromText.TryGetValue(text, out var value) ? value
        : throw new InvalidDataException($"'{text}' is not a {typeof(T).Name} (expected one of {string.Join(", ", Names<T>.FromText.Keys)})");

    /// <summary>Every member's spelling, in declaration order.</summary>
    public static IReadOnlyList<string> All<T>() where T : struct, Enum => Enum.GetValues<T>().Select(Of).ToList();

    private static string KebabCase(string name)
    {
        var text = new StringBuilder();
        foreach (var c in name)
        {
            if (char.IsUpper(c) && text.Length > 0) text.Append('-');
            text.Append(char.ToLowerInvariant(c));
        }
        return text.ToString();
    }

    private static class Names<T> where T : struct, Enum
    {
        public static readonly FrozenDictionary<T, string> ToText = Enum.GetValues<T>().ToFrozenDictionary(v => v, v => KebabCase(v.ToString()));
        public static readonly FrozenDictionary<string, T> FromText = ToText.ToFrozenDictionary(p => p.Value, p => p.Key, StringComparer.Ordinal);
    }
}
