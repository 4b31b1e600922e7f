using System.Buffers;
using System.Collections.Concurrent;
using System.Text;

namespace MultiTeacher.Tokenization;

/// <summary>
/// Byte-pair encoding of one pre-token with Hugging Face's semantics: repeatedly merge the adjacent
/// pair of lowest merge rank (leftmost first). Byte-level vocabularies start from bytes mapped
/// through the GPT-2 alphabet; SentencePiece-style ones start from characters with byte fallback.
/// </summary>
internal sealed class BpeModel
{
    private const int CacheLimit = 1 << 20;
    private const int MaxCachedWordLength = 128;

    private readonly Dictionary<string, int> _vocab;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _vocabBySpan;
    private readonly Dictionary<long, (int Rank, int Id)> _merges;
    private readonly int[] _byteIds;            // byte-level: id of each byte's alphabet char; fallback: id of <0xNN>
    private readonly bool _byteLevel, _ignoreMerges, _byteFallback, _fuseUnk;
    private readonly int _unkId;
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);
    private int _cacheCount;   // ConcurrentDictionary.Count takes every lock; too slow per miss
    private readonly ConcurrentDictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> _cacheBySpan;

    public BpeModel(TokenizerDefinition def)
    {
        _vocab = def.Vocab;
        _vocabBySpan = _vocab.GetAlternateLookup<ReadOnlySpan<char>>();
        _cacheBySpan = _cache.GetAlternateLookup<ReadOnlySpan<char>>();
        _byteLevel = def.ByteLevel;
        _ignoreMerges = def.IgnoreMerges;
        _byteFallback = def.ByteFallback;
        _fuseUnk = def.FuseUnk;
        _unkId = def.UnkToken is { } unk && _vocab.TryGetValue(unk, out var u) ? u : -1;

        _merges = new Dictionary<long, (int, int)>(def.Merges.Count, PairComparer.Instance);
        for (var rank = 0; rank < def.Merges.Count; rank++)
        {
            var (left, right) = def.Merges[rank];
            if (!_vocab.TryGetValue(left, out var a) || !_vocab.TryGetValue(right, out var b) ||
                !_vocab.TryGetValue(left + right, out var merged))
                throw new TokenizerLoadException(def.JsonPath, $"merge '{left} {right}' uses a token missing from the vocabulary");
            _merges.TryAdd(Key(a, b), (rank, merged));   // first occurrence wins, as in Hugging Face
        }

        _byteIds = new int[256];
        for (var b = 0; b < 256; b++)
        {
            var symbol = _byteLevel ? ByteLevelAlphabet.ByteToChar[b].ToString() : $"<0x{b:X2}>";
            _byteIds[b] = _vocab.TryGetValue(symbol, out var id) ? id : -1;
            if (_byteLevel && _byteIds[b] < 0)
                throw new TokenizerLoadException(def.JsonPath, $"byte-level vocabulary lacks the symbol for byte 0x{b:X2}");
        }
    }

    private static long Key(int a, int b) => ((long)a << 32) | (uint)b;

    // long.GetHashCode is hi ^ lo, so every pair (a, b) with equal a ^ b would share a bucket.
    private sealed class PairComparer : IEqualityComparer<long>
    {
        public static readonly PairComparer Instance = new();
        public bool Equals(long x, long y) => x == y;
        public int GetHashCode(long key) => (int)(((ulong)key * 0x9E3779B97F4A7C15UL) >> 32);
    }

    /// <summary>Appends the ids of one pre-token.</summary>
    public void Tokenize(ReadOnlySpan<char> word, List<int> output)
    {
        if (word.Length <= MaxCachedWordLength && _cacheBySpan.TryGetValue(word, out var cached))
        {
            output.AddRange(cached);
            return;
        }
        var ids = TokenizeUncached(word);
        if (word.Length <= MaxCachedWordLength)
        {
            if (Interlocked.Increment(ref _cacheCount) > CacheLimit)
            {
                _cache.Clear();
                Interlocked.Exchange(ref _cacheCount, 0);
            }
            _cacheBySpan.TryAdd(word, ids);
        }
        output.AddRange(ids);
    }

    private int[] TokenizeUncached(ReadOnlySpan<char> word)
    {
        if (!_byteLevel)
        {
            if (_ignoreMerges && _vocabBySpan.TryGetValue(word, out var whole)) return [whole];
            var symbols = new List<int>(word.Length + 4);
            InitialCharSymbols(word, symbols);
            Merge(symbols);
            return [.. symbols];
        }
        var byteCount = Encoding.UTF8.GetByteCount(word);
        var bytes = ArrayPool<byte>.Shared.Rent(byteCount);
        try
        {
            Encoding.UTF8.GetBytes(word, bytes);
            return TokenizeByteLevel(bytes.AsSpan(0, byteCount));
        }
        finally { ArrayPool<byte>.Shared.Return(bytes); }
    }

    /// <summary>
    /// Ids for raw bytes that need not be valid UTF-8 (e.g. part of a character): byte-level BPE
    /// over the bytes as one pre-token, or byte-fallback tokens for SentencePiece vocabularies.
    /// </summary>
    public int[] TokenizeRawBytes(ReadOnlySpan<byte> bytes)
    {
        if (_byteLevel) return TokenizeByteLevel(bytes);
        var ids = new int[bytes.Length];
        for (var i = 0; i < bytes.Length; i++)
            ids[i] = _byteIds[bytes[i]] >= 0 ? _byteIds[bytes[i]]
                : _unkId >= 0 ? _unkId : throw new InvalidOperationException($"byte 0x{bytes[i]:X2} has no token and the vocabulary has no unk");
        return ids;
    }

    private int[] TokenizeByteLevel(ReadOnlySpan<byte> bytes)
    {
        var mapped = ArrayPool<char>.Shared.Rent(bytes.Length);
        try
        {
            for (var i = 0; i < bytes.Length; i++) mapped[i] = ByteLevelAlphabet.ByteToChar[bytes[i]];
            if (_ignoreMerges && _vocabBySpan.TryGetValue(mapped.AsSpan(0, bytes.Length), out var whole))
                return [whole];
        }
        finally { ArrayPool<char>.Shared.Return(mapped); }
        var symbols = new List<int>(bytes.Length);
        foreach (var b in bytes) symbols.Add(_byteIds[b]);
        Merge(symbols);
        return [.. symbols];
    }

    private void InitialCharSymbols(ReadOnlySpan<char> word, List<int> symbols)
    {
        Span<byte> utf8 = stackalloc byte[4];
        var previousUnk = false;
        for (var i = 0; i < word.Length;)
        {
            var width = char.IsHighSurrogate(word[i]) && i + 1 < word.Length && char.IsLowSurrogate(word[i + 1]) ? 2 : 1;
            var ch = word.Slice(i, width);
            i += width;
            if (_vocabBySpan.TryGetValue(ch, out var id)) { symbols.Add(id); previousUnk = false; continue; }
            if (_byteFallback)
            {
                var n = Encoding.UTF8.GetBytes(ch, utf8);
                var all = true;
                for (var k = 0; k < n; k++) all &= _byteIds[utf8[k]] >= 0;
                if (all)
                {
                    for (var k = 0; k < n; k++) symbols.Add(_byteIds[utf8[k]]);
                    previousUnk = false;
                    continue;
                }
            }
            if (_unkId < 0) throw new InvalidOperationException($"character U+{char.ConvertToUtf32(ch.ToString(), 0):X4} has no token and the vocabulary has no unk");
            if (!(_fuseUnk && previousUnk)) symbols.Add(_unkId);
            previousUnk = true;
        }
    }

    /// <summary>Applies merges in rank order, leftmost first among equal ranks.</summary>
    private void Merge(List<int> symbols)
    {
        var n = symbols.Count;
        if (n > 256) { MergeWithHeap(symbols); return; }
        // Rank and result of each adjacent pair, kept in step with the symbols, so a merge costs two
        // lookups (its new neighbours) plus a scan of a small int array.
        Span<int> ids = stackalloc int[n];
        Span<int> ranks = stackalloc int[n];
        Span<int> merged = stackalloc int[n];
        for (var i = 0; i < n; i++) ids[i] = symbols[i];
        for (var i = 0; i + 1 < n; i++) (ranks[i], merged[i]) = Lookup(ids[i], ids[i + 1]);
        while (n > 1)
        {
            var best = 0;
            for (var i = 1; i + 1 < n; i++) if (ranks[i] < ranks[best]) best = i;
            if (ranks[best] == int.MaxValue) break;
            ids[best] = merged[best];
            var tail = n - best - 2;   // symbols after the absorbed right-hand one
            ids.Slice(best + 2, tail).CopyTo(ids[(best + 1)..]);
            ranks.Slice(best + 2, tail).CopyTo(ranks[(best + 1)..]);
            merged.Slice(best + 2, tail).CopyTo(merged[(best + 1)..]);
            n--;
            if (best > 0) (ranks[best - 1], merged[best - 1]) = Lookup(ids[best - 1], ids[best]);
            if (best + 1 < n) (ranks[best], merged[best]) = Lookup(ids[best], ids[best + 1]);
            else ranks[best] = int.MaxValue;
        }
        symbols.Clear();
        for (var i = 0; i < n; i++) symbols.Add(ids[i]);
    }

    private (int Rank, int Id) Lookup(int a, int b) =>
        _merges.TryGetValue(Key(a, b), out var m) ? m : (int.MaxValue, -1);

    // Long words (SentencePiece text without safe split points): O(n log n) with a linked list.
    private void MergeWithHeap(List<int> symbols)
    {
        var n = symbols.Count;
        var ids = symbols.ToArray();
        var next = new int[n];
        var prev = new int[n];
        var alive = new bool[n];
        for (var i = 0; i < n; i++) { next[i] = i + 1 < n ? i + 1 : -1; prev[i] = i - 1; alive[i] = true; }
        var heap = new PriorityQueue<(int Pos, int Id), (int Rank, int Pos)>();
        void Push(int pos)
        {
            if (pos < 0 || next[pos] < 0) return;
            if (_merges.TryGetValue(Key(ids[pos], ids[next[pos]]), out var m)) heap.Enqueue((pos, m.Id), (m.Rank, pos));
        }
        for (var i = 0; i + 1 < n; i++) Push(i);
        while (heap.TryDequeue(out var top, out var pri))
        {
            var pos = top.Pos;
            if (!alive[pos] || next[pos] < 0) continue;
            var right = next[pos];
            // Stale entry: the pair at pos changed since it was queued.
            if (!_merges.TryGetValue(Key(ids[pos], ids[right]), out var m) || m.Id != top.Id || m.Rank != pri.Rank) continue;
            ids[pos] = m.Id;
            alive[right] = false;
            next[pos] = next[right];
            if (next[right] >= 0) prev[next[right]] = pos;
            Push(prev[pos]);
            Push(pos);
        }
        symbols.Clear();
        for (var i = 0; i >= 0; i = next[i]) symbols.Add(ids[i]);
    }
}
