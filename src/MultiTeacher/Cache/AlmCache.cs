namespace MultiTeacher.Cache;

/// <summary>
/// A teacher's <see cref="AlmPosition"/> records over a list of texts, on disk: all that
/// approximate likelihood matching needs, at <see cref="AlmCodec.BytesPerPosition"/> bytes per
/// position (no distribution, no ids). Same file discipline as <see cref="TeacherCache"/>
/// (<see cref="CacheFile"/>): versioned, checksummed, rebuilt when damaged; sharded like it (<see cref="Join"/>).
/// </summary>
public sealed class AlmCache
{
    private static readonly byte[] Magic = "MTALMCCH"u8.ToArray();
    private const int Version = 1;

    private readonly CacheFile[] _shards;
    private readonly ShardIndex _index;

    public string Key { get; }
    public int Count => _index.Count;
    public long Positions => _shards.Sum(s => s.Positions);
    public long SizeBytes => _shards.Sum(s => (long)s.Bytes.Length);

    private AlmCache(CacheFile[] shards, string key) => (_shards, _index, Key) = (shards, new ShardIndex(shards.Select(s => s.Count)), key);

    private AlmCache(CacheFile file) : this([file], file.Header.GetProperty("key").GetString()!) { }

    /// <summary>Shards read as one cache: record i is the i-th over the shards in order.</summary>
    public static AlmCache Join(IReadOnlyList<AlmCache> shards) => shards.Count == 1 ? shards[0]
        : new AlmCache([.. shards.SelectMany(s => s._shards)], CacheFile.Key("shards\n", shards.Select(s => s.Key)));

    /// <summary>Identifies teacher, tokenizer (which fixes the boundary mask) and texts.</summary>
    public static string KeyFor(string teacherHash, string tokenizerHash, IEnumerable<string> texts) =>
        CacheFile.Key($"alm\n{teacherHash}\n{tokenizerHash}\ncodec {Version} {AlmCodec.Step}\n", texts);

    /// <summary>The records of text number <paramref name="index"/>, one per teacher token.</summary>
    public AlmPosition[] Read(int index)
    {
        var (shard, local) = _index.Locate(index);
        return AlmCodec.DecodeRecord(_shards[shard].Block(local), _shards[shard].PositionsOf(local));
    }

    /// <summary>Quantises the records and writes the file atomically.</summary>
    public static AlmCache Write(IReadOnlyList<AlmPosition[]> records, string key, string path)
    {
        var blocks = records.Select(r => (r.Length, AlmCodec.EncodeRecord(r))).ToList();
        return new AlmCache(CacheFile.Write(path, Magic, Version, new { key, count = records.Count }, _ => { }, blocks));
    }

    /// <summary>Opens and fully verifies a cache; null with the reason when it is missing, damaged or for another key.</summary>
    public static AlmCache? TryOpen(string path, string expectedKey, out string? problem) =>
        CacheFile.TryOpen(path, Magic, Version, expectedKey, out problem) is { } file ? new AlmCache(file) : null;
}
