using System.Text;
using MultiTeacher.Cache;
using MultiTeacher.Data;

namespace MultiTeacher.Teachers;

/// <summary>
/// The texts of one shard of a recipe's training samples, written once by the submitter (which cuts
/// the data into samples anyway, to count the shards) so that a shard job reads its own texts
/// instead of tokenizing the whole training data on every worker. Keyed by the data's content hash,
/// the student tokenizer, the data settings (the format as the data is read: under auto, a .txt and a
/// .jsonl of the same bytes give other texts), the shard size and the shard's number; checksummed and
/// written atomically like the teacher caches (<see cref="CacheFile"/>), so a damaged or stale file
/// is never used and the job falls back to tokenizing.
/// </summary>
public static class ShardTexts
{
    private static readonly byte[] Magic = "MTSHARDT"u8.ToArray();
    private const int Version = 1;

    /// <summary>The subdirectory of a cache root holding shard texts.</summary>
    public const string Directory = "samples";

    public static string KeyFor(string dataHash, string tokenizerHash, DataSettings data, int shardTokens, int shard) =>
        CacheFile.Key($"shard texts {Version}\n{dataHash}\n{tokenizerHash}\n{TextCorpus.Effective(data.Train, data.Format)} {data.Field} {data.SequenceLength} {data.Packing}\n{shardTokens} {shard}\n", []);

    public static string PathFor(string cacheRoot, string key) => System.IO.Path.Combine(cacheRoot, Directory, $"{key[..32]}.mttexts");

    /// <summary>Writes every shard's texts of <paramref name="plan"/> under <paramref name="cacheRoot"/>.</summary>
    public static void WriteAll(string cacheRoot, string dataHash, string tokenizerHash, DataSettings data, int shardTokens, CacheShardPlan plan, IReadOnlyList<string> texts)
    {
        foreach (var shard in plan.Shards)
        {
            var key = KeyFor(dataHash, tokenizerHash, data, shardTokens, shard.Index);
            // A sound file for this key holds these very texts: a run over the same data rewrites nothing,
            // and a job of an earlier run reading it is never disturbed.
            if (CacheFile.TryOpen(PathFor(cacheRoot, key), Magic, Version, key, out _) is not null) continue;
            var blocks = CacheShardPlan.Slice(texts, shard).Select(t => Encoding.UTF8.GetBytes(t)).Select(b => (b.Length, b)).ToList();
            CacheFile.Write(PathFor(cacheRoot, key), Magic, Version, new { key, count = blocks.Count, shards = plan.Count }, _ => { }, blocks);
        }
    }

    /// <summary>The shard's texts and the plan's shard count; null with the reason when the file is missing, damaged or for other inputs.</summary>
    public static (IReadOnlyList<string> Texts, int Shards)? TryRead(string cacheRoot, string key, out string? problem)
    {
        CacheFile? file;
        try { file = CacheFile.TryOpen(PathFor(cacheRoot, key), Magic, Version, key, out problem); }
        catch (IOException e) { (file, problem) = (null, e.Message); }
        if (file is null) return null;
        var texts = Enumerable.Range(0, file.Count).Select(i => Encoding.UTF8.GetString(file.Block(i))).ToList();
        return (texts, file.Header.GetProperty("shards").GetInt32());
    }
}
