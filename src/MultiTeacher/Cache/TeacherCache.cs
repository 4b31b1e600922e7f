namespace MultiTeacher.Cache;

/// <summary>
/// A teacher's top-k next-token distributions over a list of texts, on disk (offline
/// distillation). Stored in teacher ids, so the projection can change without recomputing.
/// Layout: magic, version, JSON header (key, k, vocabulary, count), the file's <see cref="RankTable"/>,
/// one record per text (position count + its <see cref="TopKRecordCoder"/> block), the record
/// index, and a sha256 of all of it. A truncated or altered file fails verification and is
/// rebuilt, never used.
/// </summary>
public sealed class TeacherCache
{
    private static readonly byte[] Magic = "MTTCACHE"u8.ToArray();
    private const int Version = 2;

    private readonly CacheFile _file;
    private readonly RankTable _ranks;

    public string Key { get; }
    public int TopK { get; }
    public int Vocabulary { get; }
    public int Count => _file.Count;
    public long Positions => _file.Positions;
    public long SizeBytes => _file.Bytes.Length;

    private TeacherCache(CacheFile file, RankTable ranks)
    {
        (_file, _ranks) = (file, ranks);
        Key = file.Header.GetProperty("key").GetString()!;
        TopK = file.Header.GetProperty("topK").GetInt32();
        Vocabulary = file.Header.GetProperty("vocabulary").GetInt32();
    }

    /// <summary>Identifies teacher, tokenizer, texts and k, so any change gives another cache.</summary>
    public static string KeyFor(string teacherHash, string tokenizerHash, IEnumerable<string> texts, int topK) =>
        CacheFile.Key($"{teacherHash}\n{tokenizerHash}\n{topK}\ncodec {Version} {TopKCodec.Levels} {TopKCodec.TailLevels} {TopKCodec.KlBudget}\n", texts);

    /// <summary>The positions of text number <paramref name="index"/>, in teacher token order.</summary>
    public IReadOnlyList<CachedPosition> Read(int index) => TopKRecordCoder.Decode(_file.Block(index), _file.PositionsOf(index), _ranks);

    /// <summary>Entropy-codes quantised records with a rank table learned from all of them, and writes the file atomically.</summary>
    public static TeacherCache Write(IReadOnlyList<QuantizedPosition[]> records, string key, int topK, int vocabulary, string path)
    {
        var ranks = RankTable.Build(records.SelectMany(r => r));
        var blocks = new (int, byte[])[records.Count];
        Parallel.For(0, records.Count, i => blocks[i] = (records[i].Length, TopKRecordCoder.Encode(records[i], ranks)));
        var file = CacheFile.Write(path, Magic, Version, new { key, topK, vocabulary, count = records.Count }, ranks.Write, blocks);
        return new TeacherCache(file, ranks);
    }

    /// <summary>Opens and fully verifies a cache; null with the reason when it is missing, damaged or for another key.</summary>
    public static TeacherCache? TryOpen(string path, string expectedKey, out string? problem)
    {
        if (CacheFile.TryOpen(path, Magic, Version, expectedKey, out problem) is not { } file) return null;
        ReadOnlySpan<byte> tableSpan = file.Bytes.AsSpan(file.PreludeAt);
        var ranks = RankTable.Read(ref tableSpan, file.Header.GetProperty("vocabulary").GetInt32());
        return new TeacherCache(file, ranks);
    }
}
