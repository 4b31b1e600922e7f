using System.Text.Json;
using MultiTeacher.Corpora;
using MultiTeacher.Inputs;

namespace MultiTeacher.Data;

/// <summary>Documents of text from a file or directory: plain text (blank-line separated), JSONL with a field, or the Brown corpus.</summary>
public static class TextCorpus
{
    public static IReadOnlyList<string> Load(string path, string format = "auto", string field = "text")
    {
        if (format == "auto") format = Detect(path);
        var docs = format switch
        {
            "brown" => BrownCorpus.Read(path).Select(d => d.Text).ToList(),
            "jsonl" => Files(path, ".jsonl").SelectMany(f => Jsonl(f, field)).ToList(),
            "text" => Files(path, ".txt").SelectMany(Paragraphs).ToList(),
            _ => throw new InvalidDataException($"{path}: unknown data format '{format}'"),
        };
        if (docs.Count == 0) throw new InvalidDataException($"{path}: no text found ({format})");
        return docs;
    }

    /// <summary>Checks every file <see cref="Load"/> would read (regular, within size, strict UTF-8) without parsing it.</summary>
    public static void Check(string path, string format = "auto")
    {
        if (format == "auto") format = Detect(path);
        var files = format switch
        {
            "brown" => BrownCorpus.Files(path),
            "jsonl" => Files(path, ".jsonl"),
            "text" => Files(path, ".txt"),
            _ => throw new InvalidDataException($"{path}: unknown data format '{format}'"),
        };
        foreach (var file in files) InputFile.CheckUtf8(file, InputLimits.Data);
    }

    private static string Detect(string path)
    {
        if (File.Exists(path)) return path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) ? "jsonl" : "text";
        if (Directory.Exists(path) && Directory.EnumerateFiles(path).Any(f => Path.GetFileName(f) is { Length: 4 } n && n[0] == 'c' && char.IsAsciiDigit(n[3])))
            return "brown";
        return "text";
    }

    private static IEnumerable<string> Files(string path, string extension) =>
        File.Exists(path) ? [path]
        : Directory.Exists(path) ? Directory.EnumerateFiles(path, "*" + extension, SearchOption.AllDirectories).Order(StringComparer.Ordinal)
        : throw new FileNotFoundException($"{path} does not exist", path);

    private static IEnumerable<string> Paragraphs(string file) =>
        InputFile.ReadAllText(file, InputLimits.Data).Replace("\r\n", "\n").Split("\n\n", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static IEnumerable<string> Jsonl(string file, string field)
    {
        var number = 0;
        foreach (var line in InputFile.ReadAllText(file, InputLimits.Data).Split('\n'))
        {
            number++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            string? text;
            try
            {
                using var doc = JsonDocument.Parse(line);
                text = doc.RootElement.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            }
            catch (JsonException e) { throw new InvalidDataException($"{file}:{number}: not JSON: {e.Message}", e); }
            if (text is null) throw new InvalidDataException($"{file}:{number}: no string field '{field}'");
            yield return text;
        }
    }
}
