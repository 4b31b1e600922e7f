using System.Text.Json;
using System.Text.Json.Nodes;
using MultiTeacher.Settings;

namespace MultiTeacher.Recipes;

/// <summary>A JSON Schema (draft 2020-12) of recipe files from the settings declarations, so editors complete and check recipes.</summary>
public static class RecipeJsonSchema
{
    public static JsonObject Build() => Build(SettingsSchema.For<Recipe>(), "A MultiTeacher distillation recipe.", "recipe", "MultiTeacher recipe");

    /// <summary>The JSON Schema of any settings record, published as https://multiteacher.dev/schemas/ID.json.</summary>
    public static JsonObject Build(SettingsSchema settings, string doc, string id, string title)
    {
        var schema = Object(settings, doc);
        schema.Insert(0, "$schema", "https://json-schema.org/draft/2020-12/schema");
        schema.Insert(1, "$id", $"https://multiteacher.dev/schemas/{id}.json");
        schema.Insert(2, "title", title);
        return schema;
    }

    public static string Text() => Text(Build());

    public static string Text(JsonObject schema) => schema.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

    private static JsonObject Object(SettingsSchema schema, string doc)
    {
        var properties = new JsonObject();
        foreach (var member in schema.Members)
            switch (member)
            {
                case SettingField f: properties[f.Key] = Property(f); break;
                case SettingSection s:
                    var inner = Object(s.Schema, s.Declaration.Doc);
                    properties[s.Key] = s.IsList ? new JsonObject { ["type"] = "array", ["description"] = s.Declaration.Doc, ["items"] = inner } : inner;
                    break;
            }
        var required = schema.Fields.Where(f => f.Declaration.Required).Select(f => f.Key)
            .Concat(schema.Sections.Where(s => s.Declaration.Required).Select(s => s.Key)).Select(k => (JsonNode)k!).ToArray();
        var o = new JsonObject { ["type"] = "object", ["description"] = doc, ["properties"] = properties, ["additionalProperties"] = false };
        if (required.Length > 0) o["required"] = new JsonArray(required);
        return o;
    }

    private static JsonObject Property(SettingField f)
    {
        var p = new JsonObject
        {
            ["type"] = f.Kind switch { ValueKind.Integer => "integer", ValueKind.Number => "number", ValueKind.Boolean => "boolean", _ => "string" },
            ["description"] = f.Doc,
        };
        if (f.Default is { } d && d is not string { Length: 0 }) p["default"] = d switch
        {
            Enum e => SettingNames.Of(e),
            int i => i,
            long l => l,
            double x => x,
            bool b => b,
            var other => other.ToString(),
        };
        if (f.Choices is { } choices) p["enum"] = new JsonArray(choices.Select(c => (JsonNode)c!).ToArray());
        if (f.Kind is ValueKind.Integer or ValueKind.Number)
        {
            var (min, max) = f.Bounds;
            p[f.Declaration.ExclusiveMin ? "exclusiveMinimum" : "minimum"] = f.Kind == ValueKind.Integer ? (long)min : min;
            p["maximum"] = f.Kind == ValueKind.Integer ? (long)max : max;
        }
        if (f.Kind == ValueKind.String && f.Choices is null)
        {
            p["maxLength"] = f.MaxLength;
            if (f.Declaration.Pattern is { } pattern) p["pattern"] = pattern;
        }
        return p;
    }
}
