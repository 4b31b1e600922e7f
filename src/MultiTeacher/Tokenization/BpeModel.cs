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

        _merges = new Dictionary<long, (int, int)>(def.Merges.Count);
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
            if (_cache.Count >= CacheLimit) _cache.Clear();
            _cacheBySpan.TryAdd(word, ids);
        }
        output.AddRange(ids);
    }

    private int[] TokenizeUncached(ReadOnlySpan<char> word)
    {
        var symbols = new List<int>(word.Length + 4);
        if (_byteLevel)
        {
            var byteCount = Encoding.UTF8.GetByteCount(word);
            var bytes = ArrayPool<byte>.Shared.Rent(byteCount);
            var mapped = ArrayPool<char>.Shared.Rent(byteCount);
            try
            {
                Encoding.UTF8.GetBytes(word, bytes);
                for (var i = 0; i < byteCount; i++) mapped[i] = ByteLevelAlphabet.ByteToChar[bytes[i]];
                if (_ignoreMerges && _vocabBySpan.TryGetValue(mapped.AsSpan(0, byteCount), out var whole))
                    return [whole];
                for (var i = 0; i < byteCount; i++) symbols.Add(_byteIds[bytes[i]]);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(bytes);
                ArrayPool<char>.Shared.Return(mapped);
            }
        }
        else
        {
            if (_ignoreMerges && _vocabBySpan.TryGetValue(word, out var whole)) return [whole];
            InitialCharSymbols(word, symbols);
        }
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
        if (symbols.Count > 64) { MergeWithHeap(symbols); return; }
        while (symbols.Count > 1)
        {
            var bestRank = int.MaxValue;
            var bestPos = -1;
            var bestId = 0;
            for (var i = 0; i + 1 < symbols.Count; i++)
                if (_merges.TryGetValue(Key(symbols[i], symbols[i + 1]), out var m) && m.Rank < bestRank)
                    (bestRank, bestPos, bestId) = (m.Rank, i, m.Id);
            if (bestPos < 0) return;
            symbols[bestPos] = bestId;
            symbols.RemoveAt(bestPos + 1);
        }
    }

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
