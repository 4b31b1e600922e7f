using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace MultiTeacher.Cache;

/// <summary>
/// The layout every teacher cache file shares: magic, version, JSON header (with the key), a
/// prelude of the format's own, one record per text (position count + block), the records'
/// offsets, and a sha256 of all of it. Written atomically; opened only after the checksum, magic,
/// version and key all check out, so a truncated or altered file is rebuilt, never used.
/// </summary>
internal sealed class CacheFile
{
    private readonly long[] _offsets;
    private readonly long _indexAt;

    public byte[] Bytes { get; }
    public JsonElement Header { get; }
    /// <summary>Where the prelude starts in <see cref="Bytes"/>.</summary>
    public int PreludeAt { get; }
    public int Count => _offsets.Length;
    public long Positions { get; }

    private CacheFile(byte[] bytes, JsonElement header, int preludeAt, long[] offsets, long indexAt)
    {
        (Bytes, Header, PreludeAt, _offsets, _indexAt) = (bytes, header, preludeAt, offsets, indexAt);
        Positions = offsets.Sum(o => (long)BitConverter.ToInt32(bytes, (int)o));
    }

    /// <summary>A key over the format's parameters and every text, so any change gives another cache.</summary>
    public static string Key(string parameters, IEnumerable<string> texts)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(Encoding.UTF8.GetBytes(parameters));
        foreach (var t in texts) { sha.AppendData(Encoding.UTF8.GetBytes(t)); sha.AppendData([0]); }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    public int PositionsOf(int index) => BitConverter.ToInt32(Bytes, (int)_offsets[index]);

    /// <summary>The block of record <paramref name="index"/>, after its position count.</summary>
    public ReadOnlySpan<byte> Block(int index)
    {
        var start = _offsets[index] + 4;
        var end = index + 1 < _offsets.Length ? _offsets[index + 1] : _indexAt;
        return Bytes.AsSpan((int)start, (int)(end - start));
    }

    public static CacheFile Write(string path, byte[] magic, int version, object header, Action<Stream> prelude, IReadOnlyList<(int Positions, byte[] Block)> records)
    {
        using var body = new MemoryStream();
        var headerBytes = JsonSerializer.SerializeToUtf8Bytes(header);
        body.Write(magic);
        body.Write(BitConverter.GetBytes(version));
        body.Write(BitConverter.GetBytes(headerBytes.Length));
        body.Write(headerBytes);
        var preludeAt = (int)body.Position;
        prelude(body);
        var offsets = new long[records.Count];
        for (var i = 0; i < records.Count; i++)
        {
            offsets[i] = body.Position;
            body.Write(BitConverter.GetBytes(records[i].Positions));
            body.Write(records[i].Block);
        }
        var indexAt = body.Position;
        foreach (var o in offsets) body.Write(BitConverter.GetBytes(o));
        body.Write(BitConverter.GetBytes(indexAt));
        var bytes = body.ToArray();
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temp = path + $".{Guid.NewGuid():N}.tmp";
        using (var file = File.Create(temp)) { file.Write(bytes); file.Write(SHA256.HashData(bytes)); }
        File.Move(temp, path, overwrite: true);
        using var doc = JsonDocument.Parse(headerBytes);
        return new CacheFile(bytes, doc.RootElement.Clone(), preludeAt, offsets, indexAt);
    }

    /// <summary>Opens and fully verifies a file; null with the reason when it is missing, damaged, of another format or version, or for another key.</summary>
    public static CacheFile? TryOpen(string path, byte[] magic, int version, string expectedKey, out string? problem)
    {
        problem = null;
        if (!File.Exists(path)) { problem = "missing"; return null; }
        var all = File.ReadAllBytes(path);
        if (all.Length < magic.Length + 8 + 8 + 32) { problem = "truncated"; return null; }
        var bytes = all[..^32];
        if (!SHA256.HashData(bytes).AsSpan().SequenceEqual(all.AsSpan(all.Length - 32))) { problem = "checksum mismatch (truncated or altered)"; return null; }
        if (!bytes.AsSpan(0, magic.Length).SequenceEqual(magic) || BitConverter.ToInt32(bytes, magic.Length) != version) { problem = "not a cache of this version"; return null; }
        var headerLength = BitConverter.ToInt32(bytes, magic.Length + 4);
        using var doc = JsonDocument.Parse(bytes.AsMemory(magic.Length + 8, headerLength));
        var header = doc.RootElement.Clone();
        if (header.GetProperty("key").GetString() != expectedKey) { problem = "built for other inputs"; return null; }
        var count = header.GetProperty("count").GetInt32();
        var indexAt = BitConverter.ToInt64(bytes, bytes.Length - 8);
        var offsets = new long[count];
        for (var i = 0; i < count; i++) offsets[i] = BitConverter.ToInt64(bytes, (int)indexAt + 8 * i);
        return new CacheFile(bytes, header, magic.Length + 8 + headerLength, offsets, indexAt);
    }
}
