namespace MultiTeacher.Cache;

/// <summary>
/// A teacher's top-k next-token distributions over a list of texts, on disk (offline
/// distillation). Stored in teacher ids, so the projection can change without recomputing.
/// Layout: magic, version, JSON header (key, k, vocabulary, count), the file's <see cref="RankTable"/>,
/// one record per text (position count + its <see cref="TopKRecordCoder"/> block), the record
/// index, and a sha256 of all of it. A truncated or altered file fails verification and is
/// rebuilt, never used. A sharded cache is several such files read as one (<see cref="Join"/>).
/// </summary>
public sealed class TeacherCache
{
    private static readonly byte[] Magic = "MTTCACHE"u8.ToArray();
    private const int Version = 2;

    private readonly (CacheFile File, RankTable Ranks)[] _shards;
    private readonly ShardIndex _index;

    public string Key { get; }
    public int TopK { get; }
    public int Vocabulary { get; }
    public int Count => _index.Count;
    public long Positions => _shards.Sum(s => s.File.Positions);
    public long SizeBytes => _shards.Sum(s => (long)s.File.Bytes.Length);

    private TeacherCache(CacheFile file, RankTable ranks)
    {
        (_shards, _index) = ([(file, ranks)], new ShardIndex([file.Count]));
        Key = file.Header.GetProperty("key").GetString()!;
        TopK = file.Header.GetProperty("topK").GetInt32();
        Vocabulary = file.Header.GetProperty("vocabulary").GetInt32();
    }

    private TeacherCache(IReadOnlyList<TeacherCache> shards)
    {
        if (shards.Count == 0) throw new ArgumentException("a cache needs at least one shard", nameof(shards));
        if (shards.Any(s => s.TopK != shards[0].TopK || s.Vocabulary != shards[0].Vocabulary))
            throw new InvalidDataException("cache shards disagree on k or the vocabulary; they were built for different settings");
        _shards = [.. shards.SelectMany(s => s._shards)];
        _index = new ShardIndex(_shards.Select(s => s.File.Count));
        Key = shards.Count == 1 ? shards[0].Key : CacheFile.Key("shards\n", shards.Select(s => s.Key));
        (TopK, Vocabulary) = (shards[0].TopK, shards[0].Vocabulary);
    }

    /// <summary>Shards read as one cache: record i is the i-th over the shards in order.</summary>
    public static TeacherCache Join(IReadOnlyList<TeacherCache> shards) => shards.Count == 1 ? shards[0] : new TeacherCache(shards);

    /// <summary>Identifies teacher, tokenizer, texts and k, so any change gives another cache.</summary>
    public static string KeyFor(string teacherHash, string tokenizerHash, IEnumerable<string> texts, int topK) =>
        CacheFile.Key($"{teacherHash}\n{tokenizerHash}\n{topK}\ncodec {Version} {TopKCodec.Levels} {TopKCodec.TailLevels} {TopKCodec.KlBudget}\n", texts);

    /// <summary>The positions of text number <paramref name="index"/>, in teacher token order.</summary>
    public IReadOnlyList<CachedPosition> Read(int index)
    {
        var (shard, local) = _index.Locate(index);
        var (file, ranks) = _shards[shard];
        return TopKRecordCoder.Decode(file.Block(local), file.PositionsOf(local), ranks);
    }

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
