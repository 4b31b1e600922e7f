using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace MultiTeacher.Recipes;

/// <summary>
/// Command-line overrides in torchtune's shape, KEY.PATH=VALUE (train.steps=5, teachers.0.weight=2):
/// each sets one scalar in the recipe's YAML before it is read, so it is validated like the file,
/// and its errors name the override.
/// </summary>
internal static class RecipeOverrides
{
    public static void Apply(SettingsReader r, YamlMappingNode root, IReadOnlyList<string> overrides)
    {
        foreach (var o in overrides)
        {
            var eq = o.IndexOf('=');
            var path = eq > 0 ? o[..eq].Split('.') : [];
            if (eq <= 0 || path.Any(p => p.Length == 0))
            {
                r.Errors.Add(new RecipeError(r.File, 0, 0, $"override '{o}' must read KEY.PATH=VALUE, e.g. train.steps=5"));
                continue;
            }
            var value = new YamlScalarNode(o[(eq + 1)..]);
            r.Overridden[value] = o;
            Set(r, root, path, value, o);
        }
    }

    private static void Set(SettingsReader r, YamlNode node, string[] path, YamlScalarNode value, string o)
    {
        for (var i = 0; i < path.Length; i++)
        {
            var last = i == path.Length - 1;
            switch (node)
            {
                case YamlMappingNode map:
                    var key = new YamlScalarNode(path[i]);
                    if (map.Children.TryGetValue(key, out var child) && !last) { node = child; continue; }
                    // Keep the file's key node when replacing its value, so errors about the key itself still point there.
                    var existing = map.Children.Keys.FirstOrDefault(k => k.Equals(key));
                    if (existing is null) r.Overridden[key] = o;
                    var next = last ? value : (YamlNode)new YamlMappingNode();
                    if (!last) r.Overridden[next] = o;
                    map.Children[existing ?? key] = next;
                    node = next;
                    break;
                case YamlSequenceNode seq when int.TryParse(path[i], NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index < seq.Children.Count:
                    if (last) seq.Children[index] = value;
                    else node = seq.Children[index];
                    break;
                default:
                    r.Errors.Add(new RecipeError(r.File, 0, 0, $"override '{o}': {string.Join('.', path[..i])} has no entry '{path[i]}'"));
                    return;
            }
        }
    }
}
