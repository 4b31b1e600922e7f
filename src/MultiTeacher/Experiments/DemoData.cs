using MultiTeacher.Corpora;

namespace MultiTeacher.Experiments;

/// <summary>The demo's text: three Brown genres for three teachers, their mix for the student, and held-out documents of each.</summary>
public static class DemoData
{
    public static readonly (string Name, char Genre)[] Genres = [("press", 'a'), ("learned", 'j'), ("fiction", 'k')];
    private const int HeldOutDocuments = 8;
    private const int TrainCharacters = 200_000;

    /// <summary>The held-out documents of each genre, whole: the same ones heldout-{genre}.txt holds.</summary>
    public static IReadOnlyList<(string Genre, IReadOnlyList<BrownDocument> Documents)> HeldOut(string brownDirectory) =>
        Genres.Select(g => (g.Name, (IReadOnlyList<BrownDocument>)BrownCorpus.Read(brownDirectory, g.Genre.ToString()).TakeLast(HeldOutDocuments).ToList())).ToList();

    /// <summary>Writes data/{genre}.txt, mixed.txt, heldout-{genre}.txt and heldout-all.txt under <paramref name="root"/>.</summary>
    public static void Write(string brownDirectory, string root)
    {
        var data = Path.Combine(root, "data");
        Directory.CreateDirectory(data);
        var mixed = new List<string>();
        var heldOutAll = new List<string>();
        foreach (var (name, genre) in Genres)
        {
            var docs = BrownCorpus.Read(brownDirectory, genre.ToString()).Select(d => d.Text).ToList();
            var heldOut = docs.TakeLast(HeldOutDocuments).ToList();
            var train = new List<string>();
            var length = 0;
            foreach (var doc in docs.SkipLast(HeldOutDocuments))
            {
                if (length >= TrainCharacters) break;
                train.Add(doc);
                length += doc.Length;
            }
            File.WriteAllText(Path.Combine(data, $"{name}.txt"), string.Join("\n\n", train));
            File.WriteAllText(Path.Combine(data, $"heldout-{name}.txt"), string.Join("\n\n", heldOut));
            mixed.AddRange(train);
            heldOutAll.AddRange(heldOut);
        }
        // Interleave genres so that every stretch of the mixed data has all three.
        var interleaved = mixed.Select((doc, i) => (doc, i)).OrderBy(x => x.i % 7).ThenBy(x => x.i).Select(x => x.doc);
        File.WriteAllText(Path.Combine(data, "mixed.txt"), string.Join("\n\n", interleaved));
        File.WriteAllText(Path.Combine(data, "heldout-all.txt"), string.Join("\n\n", heldOutAll));
    }
}
