using System.Text.Json;
using System.Text.Json.Serialization;

namespace MultiTeacher.Runs;

/// <summary>
/// The JSON that `--json` prints: snake_case property names (as the database columns), enums spelled
/// as <see cref="Spelling"/> spells them everywhere else, one indented document.
/// </summary>
public static class SpellingJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new EnumSpelling() },
    };

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);

    /// <summary>Writes and reads any enum by its <see cref="Spelling"/>.</summary>
    private sealed class EnumSpelling : JsonConverterFactory
    {
        public override bool CanConvert(Type type) => type.IsEnum;

        public override JsonConverter CreateConverter(Type type, JsonSerializerOptions options) =>
            (JsonConverter)Activator.CreateInstance(typeof(Converter<>).MakeGenericType(type))!;

        private sealed class Converter<T> : JsonConverter<T> where T : struct, Enum
        {
            public override T Read(ref Utf8JsonReader reader, Type type, JsonSerializerOptions options) => Spelling.Parse<T>(reader.GetString()!);
            public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) => writer.WriteStringValue(Spelling.Of(value));
        }
    }
}
