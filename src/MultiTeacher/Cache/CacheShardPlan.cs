namespace MultiTeacher.Cache;

/// <summary>One shard of a teacher's cache: <see cref="Count"/> training samples from number <see cref="First"/> on.</summary>
public sealed record CacheShard(int Index, int First, int Count);

/// <summary>
/// How a teacher's cache is cut into shards of about N tokens: contiguous runs of samples, each
/// closed as soon as it holds N tokens or more. The cut depends only on the samples and N, so every
/// worker computes the same shards, and a shard's file is keyed by its own texts: a later run over
/// the same slice of data finds it whatever else changed.
/// </summary>
public sealed record CacheShardPlan(IReadOnlyList<CacheShard> Shards)
{
    /// <param name="tokensPerSample">Each sample's token count, in sample order.</param>
    /// <param name="shardTokens">Tokens per shard; 0 for one shard over everything.</param>
    public static CacheShardPlan For(IReadOnlyList<int> tokensPerSample, int shardTokens)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(shardTokens);
        if (shardTokens == 0 || tokensPerSample.Count == 0) return new([new CacheShard(0, 0, tokensPerSample.Count)]);
        var shards = new List<CacheShard>();
        var (first, tokens) = (0, 0L);
        for (var i = 0; i < tokensPerSample.Count; i++)
        {
            tokens += tokensPerSample[i];
            if (tokens < shardTokens && i + 1 < tokensPerSample.Count) continue;
            shards.Add(new CacheShard(shards.Count, first, i + 1 - first));
            (first, tokens) = (i + 1, 0);
        }
        return new(shards);
    }

    public int Count => Shards.Count;

    public CacheShard this[int index] => (uint)index < (uint)Shards.Count ? Shards[index]
        : throw new InvalidDataException($"shard {index} does not exist: the cache has {Shards.Count} shard(s)");

    /// <summary>The items (texts) of one shard.</summary>
    public static IReadOnlyList<T> Slice<T>(IReadOnlyList<T> items, CacheShard shard) => items.Skip(shard.First).Take(shard.Count).ToList();
}
