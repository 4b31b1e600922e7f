using System.Reflection;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace MultiTeacher.Assets;

/// <summary>One pinned npm package and the files it contributes to the asset directory.</summary>
public sealed record AssetEntry(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("package")] string Package,
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("sha256")] string Sha256,
    [property: JsonPropertyName("extract")] Dictionary<string, string> Extract);

/// <summary>The pinned asset list shipped inside the library (Assets/assets.json).</summary>
public sealed class AssetManifest
{
    [JsonPropertyName("assets")] public List<AssetEntry> Assets { get; init; } = [];

    /// <summary>Raw bytes of the embedded manifest; their sha256 marks a complete asset directory.</summary>
    public static byte[] EmbeddedBytes()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("MultiTeacher.Assets.assets.json")
            ?? throw new InvalidOperationException("embedded asset manifest is missing from the MultiTeacher assembly");
        using var ms = new MemoryStream();
        stream.CopyTo(ms);
        return ms.ToArray();
    }

    public static AssetManifest Load() =>
        JsonSerializer.Deserialize<AssetManifest>(EmbeddedBytes())
        ?? throw new InvalidOperationException("embedded asset manifest is empty");

    /// <summary>The tokenizer families the manifest provides ("llama3", ...), as named under tokenizers/.</summary>
    public static IReadOnlyList<string> TokenizerFamilies() =>
        [.. Load().Assets.Select(a => a.Name).Where(n => n.StartsWith("tokenizers/", StringComparison.Ordinal))
            .Select(n => n["tokenizers/".Length..]).Order(StringComparer.Ordinal)];

    public static string Sha256Hex(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
}
