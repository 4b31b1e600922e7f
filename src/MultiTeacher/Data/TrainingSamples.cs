using MultiTeacher.Tokenization;

namespace MultiTeacher.Data;

/// <summary>One training sample: a piece of text and the student's ids for it (at most T + 1).</summary>
public sealed record TextSample(int Index, string Text, int[] StudentIds);

/// <summary>
/// Cuts documents into samples of at most T + 1 student tokens, at student token boundaries, and
/// hands them out in a seeded, resumable order. Samples are text, so every teacher tokenizes
/// exactly the text the student sees.
/// </summary>
public sealed class TrainingSamples
{
    public IReadOnlyList<TextSample> Samples { get; }

    /// <summary>A recipe's training samples: its training data, sequence length and packing. Teacher caches are keyed by their texts.</summary>
    public static TrainingSamples ForRecipe(DataSettings data, HfTokenizer student) =>
        new(TextCorpus.Load(data.Train, data.Format, data.Field), student, data.SequenceLength, data.Packing);

    /// <param name="packing">Join documents (blank line between) before cutting, so short documents fill whole samples.</param>
    public TrainingSamples(IEnumerable<string> documents, HfTokenizer student, int sequenceLength, bool packing = false)
    {
        var samples = new List<TextSample>();
        if (packing) documents = [string.Join("\n\n", documents)];
        foreach (var doc in documents)
        {
            var e = student.Encode(doc, addSpecialTokens: false);
            for (var start = 0; start < e.Count; start += sequenceLength)
            {
                var end = Math.Min(e.Count, start + sequenceLength);
                if (end - start < 2) continue;
                var text = doc[e.Offsets[start].Start..e.Offsets[end - 1].End];
                var ids = student.EncodeToIds(text, addSpecialTokens: true);
                if (ids.Length > sequenceLength + 1) ids = ids[..(sequenceLength + 1)];
                if (ids.Length >= 2) samples.Add(new TextSample(samples.Count, text, ids));
            }
        }
        if (samples.Count == 0) throw new InvalidDataException("the training text yields no sample of two or more tokens");
        Samples = samples;
    }

    /// <summary>Sample indices of batch number <paramref name="batch"/>: epochs are seeded permutations, so any step can be recomputed on resume.</summary>
    public int[] Batch(long batch, int batchSize, long seed)
    {
        var result = new int[batchSize];
        for (var i = 0; i < batchSize; i++)
        {
            var position = batch * batchSize + i;
            var epoch = position / Samples.Count;
            result[i] = Permutation(epoch, seed)[position % Samples.Count];
        }
        return result;
    }

    private readonly Dictionary<(long Seed, long Epoch), int[]> _permutations = [];

    private int[] Permutation(long epoch, long seed)
    {
        if (_permutations.TryGetValue((seed, epoch), out var p)) return p;
        p = Enumerable.Range(0, Samples.Count).ToArray();
        new Random(unchecked((int)(seed * 1_000_003 + epoch * 7_919))).Shuffle(p);   // fixed mix: HashCode is per-process
        return _permutations[(seed, epoch)] = p;
    }
}
