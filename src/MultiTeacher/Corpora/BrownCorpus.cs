using System.Text;
using MultiTeacher.Inputs;

namespace MultiTeacher.Corpora;

/// <summary>A Brown corpus document as plain text, with its genre.</summary>
public sealed record BrownDocument(string Id, char GenreCode, string Genre, string Text);

/// <summary>
/// Reads the Brown corpus in its word/TAG form (one file per document, named by genre letter and
/// number, e.g. "cj01") and returns plain running text.
/// </summary>
public static class BrownCorpus
{
    public static readonly IReadOnlyDictionary<char, string> Genres = new Dictionary<char, string>
    {
        ['a'] = "press: reportage", ['b'] = "press: editorial", ['c'] = "press: reviews", ['d'] = "religion",
        ['e'] = "skills and hobbies", ['f'] = "popular lore", ['g'] = "belles lettres", ['h'] = "government",
        ['j'] = "learned", ['k'] = "general fiction", ['l'] = "mystery", ['m'] = "science fiction",
        ['n'] = "adventure", ['p'] = "romance", ['r'] = "humor",
    };

    public static IEnumerable<BrownDocument> Read(string directory, string genreCodes = "abcdefghjklmnpr")
    {
        foreach (var file in Files(directory, genreCodes))
        {
            var name = Path.GetFileName(file);
            yield return new BrownDocument(name, name[1], Genres[name[1]], ToPlainText(InputFile.ReadAllText(file, InputLimits.Data)));
        }
    }

    /// <summary>The document files of a corpus directory (cGNN), in order.</summary>
    public static IEnumerable<string> Files(string directory, string genreCodes = "abcdefghjklmnpr") =>
        Directory.EnumerateFiles(directory).Order(StringComparer.Ordinal).Where(file => Path.GetFileName(file) is { Length: 4 } name
            && name[0] == 'c' && Genres.ContainsKey(name[1]) && genreCodes.Contains(name[1]));

    /// <summary>Drops the tags and undoes the corpus' token spacing (quotes, punctuation).</summary>
    public static string ToPlainText(string tagged)
    {
        var sb = new StringBuilder(tagged.Length / 2);
        foreach (var paragraph in tagged.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var line = new StringBuilder();
            foreach (var item in paragraph.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                var slash = item.LastIndexOf('/');
                var word = slash > 0 ? item[..slash] : item;
                word = word switch { "``" or "''" => "\"", _ => word };
                var attach = word is "." or "," or ";" or ":" or "?" or "!" or ")" || word.StartsWith('\'') || (word == "\"" && Quotes(line) % 2 == 1);
                if (line.Length > 0 && !attach && !EndsWithOpener(line)) line.Append(' ');
                line.Append(word);
            }
            if (line.Length == 0) continue;
            if (sb.Length > 0) sb.Append('\n');
            sb.Append(line);
        }
        return sb.ToString();
    }

    private static int Quotes(StringBuilder line)
    {
        var n = 0;
        for (var i = 0; i < line.Length; i++) if (line[i] == '"') n++;
        return n;
    }

    private static bool EndsWithOpener(StringBuilder line) =>
        line[^1] == '(' || (line[^1] == '"' && Quotes(line) % 2 == 1);
}
