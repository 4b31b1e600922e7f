using MultiTeacher.Corpora;

namespace MultiTeacher.Experiments.Twins;

/// <summary>One genre's Brown documents split three ways: training text, validation (choices are made here) and test (figures are reported here).</summary>
public sealed record GenreSplit(string Genre, IReadOnlyList<BrownDocument> Train, IReadOnlyList<BrownDocument> Validation, IReadOnlyList<BrownDocument> Test);

/// <summary>
/// The twin experiment's text: per genre of the demo, the last documents are test, the ones before
/// them validation, and training text is taken from the start; no document is in two splits.
/// Teachers learn one genre (twins/data/{genre}.txt), students the three mixed (twins/data/mixed.txt).
/// </summary>
public static class TwinsData
{
    public const int TestDocuments = 8, ValidationDocuments = 4;
    private const int TrainCharacters = 200_000;

    /// <summary>
    /// Characters of mixed.txt: about what the students read (80 steps of 8 x 64 Mistral tokens at
    /// ~4 characters a token). Teacher caches cover all of a run's training text, so more would only
    /// cost teacher passes that no student step reads.
    /// </summary>
    public const int MixedCharacters = 180_000;

    public static IReadOnlyList<GenreSplit> Split(string brownDirectory) => DemoData.Genres.Select(g =>
    {
        var docs = BrownCorpus.Read(brownDirectory, g.Genre.ToString()).ToList();
        var test = docs.TakeLast(TestDocuments).ToList();
        var validation = docs.SkipLast(TestDocuments).TakeLast(ValidationDocuments).ToList();
        var train = new List<BrownDocument>();
        var length = 0;
        foreach (var doc in docs.SkipLast(TestDocuments + ValidationDocuments).TakeWhile(_ => length < TrainCharacters))
        {
            train.Add(doc);
            length += doc.Text.Length;
        }
        if (train.Count == 0) throw new InvalidDataException($"Brown genre {g.Name} has too few documents for a train/validation/test split");
        return new GenreSplit(g.Name, train, validation, test);
    }).ToList();

    /// <summary>The directory of the experiment's text under the demo's working directory.</summary>
    public static string Directory(string work) => Path.Combine(work, "twins", "data");

    /// <summary>Writes {genre}.txt and mixed.txt (genres interleaved document by document, cut at a paragraph within <paramref name="mixedCharacters"/>) of the training split.</summary>
    public static IReadOnlyList<GenreSplit> Write(string brownDirectory, string work, int mixedCharacters = MixedCharacters)
    {
        var splits = Split(brownDirectory);
        var data = System.IO.Directory.CreateDirectory(Directory(work)).FullName;
        foreach (var s in splits) File.WriteAllText(Path.Combine(data, $"{s.Genre}.txt"), string.Join("\n\n", s.Train.Select(d => d.Text)));
        var longest = splits.Max(s => s.Train.Count);
        var mixed = Enumerable.Range(0, longest).SelectMany(i => splits.Where(s => i < s.Train.Count).Select(s => s.Train[i].Text));
        var text = string.Join("\n\n", mixed);
        if (text.Length > mixedCharacters)
        {
            var cut = text.LastIndexOf("\n\n", mixedCharacters, StringComparison.Ordinal);
            text = text[..(cut > 0 ? cut : mixedCharacters)];
        }
        File.WriteAllText(Path.Combine(data, "mixed.txt"), text);
        return splits;
    }
}
