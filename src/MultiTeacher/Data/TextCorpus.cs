using System.Text.Json;
using MultiTeacher.Corpora;
using MultiTeacher.Inputs;

namespace MultiTeacher.Data;

/// <summary>Documents of text from a file or directory: plain text (blank-line separated), JSONL with a field, or the Brown corpus.</summary>
public static class TextCorpus
{
    public static IReadOnlyList<string> Load(string path, DataFormat format = DataFormat.Auto, string field = "text")
    {
        format = Effective(path, format);
        var docs = format switch
        {
            DataFormat.Brown => BrownCorpus.Read(path).Select(d => d.Text).ToList(),
            DataFormat.Jsonl => Files(path, ".jsonl").SelectMany(f => Jsonl(f, field)).ToList(),
            DataFormat.Text => Files(path, ".txt").SelectMany(Paragraphs).ToList(),
            _ => throw new InvalidDataException($"{path}: unknown data format '{format}'"),
        };
        if (docs.Count == 0) throw new InvalidDataException($"{path}: no text found ({format})");
        return docs;
    }

    /// <summary>Checks every file <see cref="Load"/> would read (regular, within size, strict UTF-8) without parsing it.</summary>
    public static void Check(string path, DataFormat format = DataFormat.Auto)
    {
        format = Effective(path, format);
        var files = format switch
        {
            DataFormat.Brown => BrownCorpus.Files(path),
            DataFormat.Jsonl => Files(path, ".jsonl"),
            _ => Files(path, ".txt"),
        };
        foreach (var file in files) InputFile.CheckUtf8(file, InputLimits.Data);
    }

    /// <summary>The format <paramref name="path"/> is read in: <paramref name="format"/>, or under Auto the one its name and contents say.</summary>
    public static DataFormat Effective(string path, DataFormat format) => format == DataFormat.Auto ? Detect(path) : format;

    private static DataFormat Detect(string path)
    {
        if (File.Exists(path)) return path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) ? DataFormat.Jsonl : DataFormat.Text;
        if (Directory.Exists(path) && Directory.EnumerateFiles(path).Any(f => Path.GetFileName(f) is { Length: 4 } n && n[0] == 'c' && char.IsAsciiDigit(n[3])))
            return DataFormat.Brown;
        return DataFormat.Text;
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
