using System.Text.Json.Nodes;

namespace MultiTeacher.Tests.Reliability;

/// <summary>
/// Structure-aware mutations of a valid JSON/YAML tree: delete, duplicate and retype keys and
/// elements, extreme numbers, long and control-character strings, deep nesting, unknown keys.
/// Deterministic for a seed, so a failing case can be reproduced by its number.
/// </summary>
public sealed class Mutator(int seed)
{
    private readonly Random _random = new(seed);

    private static readonly string[] ExtremeNumbers =
        ["-1", "0", "2147483647", "2147483648", "-2147483649", "4294967296", "9223372036854775807", "1e300", "-1e300", "1e-320", "123456789012345678901234567890", "0.5"];

    public string Last { get; private set; } = "";

    /// <summary>A mutated deep copy of <paramref name="original"/> with one to three mutations.</summary>
    public JsonNode Mutate(JsonNode original)
    {
        var root = original.DeepClone();
        var applied = new List<string>();
        for (var n = 1 + _random.Next(3); n > 0; n--) applied.Add(MutateOnce(root));
        Last = string.Join("; ", applied);
        return root;
    }

    private string MutateOnce(JsonNode root)
    {
        var nodes = All(root).Where(n => n.Parent is not null).ToList();
        if (nodes.Count == 0) return "empty";
        var target = nodes[_random.Next(nodes.Count)];
        var path = target.GetPath();
        switch (_random.Next(7))
        {
            case 0:
                Remove(target);
                return $"delete {path}";
            case 1:
                Replace(target, nodes[_random.Next(nodes.Count)].DeepClone());
                return $"duplicate into {path}";
            case 2:
                Replace(target, Retyped(target));
                return $"retype {path}";
            case 3:
                Replace(target, JsonNode.Parse(ExtremeNumbers[_random.Next(ExtremeNumbers.Length)]));
                return $"extreme number at {path}";
            case 4:
                var depth = 10 + _random.Next(50);
                JsonNode nested = target.DeepClone();
                for (var d = 0; d < depth; d++) nested = _random.Next(2) == 0 ? new JsonArray(nested) : new JsonObject { ["k"] = nested };
                Replace(target, nested);
                return $"nest {depth} deep at {path}";
            case 5:
                string[] strings = [new string('x', 100_000), "\u001b[2J\u0007", "", " ", "../../../../etc/passwd", "名前", "%s%n", "null"];
                Replace(target, JsonValue.Create(strings[_random.Next(strings.Length)]));
                return $"string at {path}";
            default:
                if (target is JsonObject o) { o["unknown_" + _random.Next(100)] = 1; return $"unknown key in {path}"; }
                if (target is JsonArray a) { a.Add(a.Count > 0 ? a[0]?.DeepClone() : null); return $"extra element in {path}"; }
                Replace(target, null);
                return $"null at {path}";
        }
    }

    private JsonNode? Retyped(JsonNode node) => (node.GetValueKind(), _random.Next(3)) switch
    {
        (System.Text.Json.JsonValueKind.Object, 0) => new JsonArray(),
        (System.Text.Json.JsonValueKind.Object, _) => JsonValue.Create("text"),
        (System.Text.Json.JsonValueKind.Array, 0) => new JsonObject(),
        (System.Text.Json.JsonValueKind.Array, _) => JsonValue.Create(7),
        (System.Text.Json.JsonValueKind.String, 0) => JsonValue.Create(3),
        (System.Text.Json.JsonValueKind.String, 1) => new JsonObject { ["a"] = "b" },
        (System.Text.Json.JsonValueKind.Number, 0) => JsonValue.Create("12"),
        (System.Text.Json.JsonValueKind.Number, 1) => JsonValue.Create(true),
        (_, 0) => new JsonArray(1, 2),
        _ => JsonValue.Create("true"),
    };

    private static IEnumerable<JsonNode> All(JsonNode node)
    {
        yield return node;
        IEnumerable<JsonNode?> children = node switch { JsonObject o => o.Select(kv => kv.Value), JsonArray a => a, _ => [] };
        foreach (var child in children.OfType<JsonNode>())
            foreach (var n in All(child)) yield return n;
    }

    private static void Remove(JsonNode node)
    {
        if (node.Parent is JsonObject o) o.Remove(o.First(kv => ReferenceEquals(kv.Value, node)).Key);
        else if (node.Parent is JsonArray a) a.Remove(node);
    }

    private static void Replace(JsonNode node, JsonNode? with)
    {
        if (node.Parent is JsonObject o) o[o.First(kv => ReferenceEquals(kv.Value, node)).Key] = with;
        else if (node.Parent is JsonArray a) a[a.IndexOf(node)] = with;
    }
}
