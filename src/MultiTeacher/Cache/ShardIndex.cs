namespace MultiTeacher.Cache;

/// <summary>Finds which of several shards, read one after another as one list, holds record number i.</summary>
internal sealed class ShardIndex
{
    private readonly int[] _starts;

    public int Count { get; }

    public ShardIndex(IEnumerable<int> counts)
    {
        var starts = new List<int>();
        foreach (var c in counts) { starts.Add(Count); Count += c; }
        _starts = [.. starts];
    }

    /// <summary>The shard holding record <paramref name="index"/> and the record's place in it.</summary>
    public (int Shard, int Local) Locate(int index)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), $"the cache holds {Count} records");
        var at = Array.BinarySearch(_starts, index);
        // An empty shard starts where the next one does: take the last shard starting at or before index.
        if (at < 0) at = ~at - 1;
        while (at + 1 < _starts.Length && _starts[at + 1] == index) at++;
        return (at, index - _starts[at]);
    }
}
