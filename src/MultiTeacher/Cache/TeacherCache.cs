using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

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

    private readonly byte[] _bytes;
    private readonly long[] _offsets;
    private readonly long _indexAt;
    private readonly RankTable _ranks;

    public string Key { get; }
    public int TopK { get; }
    public int Vocabulary { get; }
    public int Count => _offsets.Length;
    public long Positions { get; }
    public long SizeBytes => _bytes.Length;

    private TeacherCache(byte[] bytes, long[] offsets, long indexAt, RankTable ranks, string key, int topK, int vocabulary, long positions)
        => (_bytes, _offsets, _indexAt, _ranks, Key, TopK, Vocabulary, Positions) = (bytes, offsets, indexAt, ranks, key, topK, vocabulary, positions);

    /// <summary>Identifies teacher, tokenizer, texts and k, so any change gives another cache.</summary>
    public static string KeyFor(string teacherHash, string tokenizerHash, IEnumerable<string> texts, int topK)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(Encoding.UTF8.GetBytes($"{teacherHash}\n{tokenizerHash}\n{topK}\ncodec {Version} {TopKCodec.Levels} {TopKCodec.TailLevels} {TopKCodec.KlBudget}\n"));
        foreach (var t in texts) { sha.AppendData(Encoding.UTF8.GetBytes(t)); sha.AppendData([0]); }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    /// <summary>The positions of text number <paramref name="index"/>, in teacher token order.</summary>
    public IReadOnlyList<CachedPosition> Read(int index)
    {
        var start = _offsets[index];
        var end = index + 1 < _offsets.Length ? _offsets[index + 1] : _indexAt;
        var count = BitConverter.ToInt32(_bytes, (int)start);
        return TopKRecordCoder.Decode(_bytes.AsSpan((int)start + 4, (int)(end - start - 4)), count, _ranks);
    }

    /// <summary>Entropy-codes quantised records with a rank table learned from all of them, and writes the file atomically.</summary>
    public static TeacherCache Write(IReadOnlyList<QuantizedPosition[]> records, string key, int topK, int vocabulary, string path)
    {
        var ranks = RankTable.Build(records.SelectMany(r => r));
        var blocks = new byte[records.Count][];
        Parallel.For(0, records.Count, i => blocks[i] = TopKRecordCoder.Encode(records[i], ranks));
        using var body = new MemoryStream();
        var header = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { key, topK, vocabulary, count = records.Count }));
        body.Write(Magic);
        body.Write(BitConverter.GetBytes(Version));
        body.Write(BitConverter.GetBytes(header.Length));
        body.Write(header);
        ranks.Write(body);
        var offsets = new long[records.Count];
        for (var i = 0; i < records.Count; i++)
        {
            offsets[i] = body.Position;
            body.Write(BitConverter.GetBytes(records[i].Length));
            body.Write(blocks[i]);
        }
        var indexAt = body.Position;
        foreach (var o in offsets) body.Write(BitConverter.GetBytes(o));
        body.Write(BitConverter.GetBytes(indexAt));
        var bytes = body.ToArray();
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temp = path + $".{Guid.NewGuid():N}.tmp";
        using (var file = File.Create(temp)) { file.Write(bytes); file.Write(SHA256.HashData(bytes)); }
        File.Move(temp, path, overwrite: true);
        return new TeacherCache(bytes, offsets, indexAt, ranks, key, topK, vocabulary, records.Sum(r => (long)r.Length));
    }

    /// <summary>Opens and fully verifies a cache; null with the reason when it is missing, damaged or for another key.</summary>
    public static TeacherCache? TryOpen(string path, string expectedKey, out string? problem)
    {
        problem = null;
        if (!File.Exists(path)) { problem = "missing"; return null; }
        var all = File.ReadAllBytes(path);
        if (all.Length < Magic.Length + 8 + 8 + 32) { problem = "truncated"; return null; }
        var bytes = all[..^32];
        if (!SHA256.HashData(bytes).AsSpan().SequenceEqual(all.AsSpan(all.Length - 32))) { problem = "checksum mismatch (truncated or altered)"; return null; }
        if (!bytes.AsSpan(0, Magic.Length).SequenceEqual(Magic) || BitConverter.ToInt32(bytes, Magic.Length) != Version) { problem = "not a cache of this version"; return null; }
        var headerLength = BitConverter.ToInt32(bytes, Magic.Length + 4);
        using var header = JsonDocument.Parse(bytes.AsMemory(Magic.Length + 8, headerLength));
        var key = header.RootElement.GetProperty("key").GetString();
        if (key != expectedKey) { problem = "built for other inputs"; return null; }
        var count = header.RootElement.GetProperty("count").GetInt32();
        var vocabulary = header.RootElement.GetProperty("vocabulary").GetInt32();
        ReadOnlySpan<byte> tableSpan = bytes.AsSpan(Magic.Length + 8 + headerLength);
        var ranks = RankTable.Read(ref tableSpan, vocabulary);
        var indexAt = BitConverter.ToInt64(bytes, bytes.Length - 8);
        var offsets = new long[count];
        for (var i = 0; i < count; i++) offsets[i] = BitConverter.ToInt64(bytes, (int)indexAt + 8 * i);
        var positions = offsets.Sum(o => (long)BitConverter.ToInt32(bytes, (int)o));
        return new TeacherCache(bytes, offsets, indexAt, ranks, key!, header.RootElement.GetProperty("topK").GetInt32(), vocabulary, positions);
    }
}
