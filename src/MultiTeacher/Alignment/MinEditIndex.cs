using System.Buffers;
using MultiTeacher.Tokenization;

namespace MultiTeacher.Alignment;

/// <summary>
/// Nearest student token by Levenshtein distance over token bytes (FuseLLM's MinED), without
/// comparing against the whole vocabulary: a byte trie of the student tokens is walked once with
/// one dynamic-programming row per trie depth (branch and bound). The bound starts at the distance
/// to a good candidate (the student's own first token for those bytes) and shrinks with every
/// better token found; a branch whose row minimum exceeds it is cut. Ties go to the lowest id.
/// </summary>
internal sealed class MinEditIndex
{
    private readonly HfTokenizer _student;
    private readonly byte[] _label;
    private readonly int[] _firstChild, _nextSibling, _token;
    private readonly int _maxDepth;

    public MinEditIndex(HfTokenizer student)
    {
        _student = student;
        var label = new List<byte> { 0 };
        var firstChild = new List<int> { -1 };
        var nextSibling = new List<int> { -1 };
        var token = new List<int> { -1 };
        for (var id = 0; id < student.VocabSize; id++)
        {
            if (student.TokenText(id) is null || student.IsSpecial(id)) continue;
            var bytes = student.TokenBytes(id);
            var node = 0;
            foreach (var b in bytes)
            {
                var child = firstChild[node];
                while (child >= 0 && label[child] != b) child = nextSibling[child];
                if (child < 0)
                {
                    label.Add(b); firstChild.Add(-1); nextSibling.Add(firstChild[node]); token.Add(-1);
                    child = firstChild[node] = label.Count - 1;
                }
                node = child;
            }
            if (token[node] < 0) token[node] = id;
            _maxDepth = Math.Max(_maxDepth, bytes.Length);
        }
        (_label, _firstChild, _nextSibling, _token) = (label.ToArray(), firstChild.ToArray(), nextSibling.ToArray(), token.ToArray());
    }

    public int Nearest(ReadOnlySpan<byte> query)
    {
        var m = query.Length;
        var width = m + 1;
        var best = (Distance: int.MaxValue, Id: int.MaxValue);
        if (_student.EncodeBytesMidText(query) is [var seed, ..])
            best = (Levenshtein(query, _student.TokenBytes(seed)), seed);
        var rows = ArrayPool<int>.Shared.Rent((_maxDepth + 1) * width);
        try
        {
            for (var k = 0; k <= m; k++) rows[k] = k;   // depth 0: distance from the empty prefix
            for (var c = _firstChild[0]; c >= 0; c = _nextSibling[c]) Walk(c, 1, query, rows, width, ref best);
        }
        finally { ArrayPool<int>.Shared.Return(rows); }
        return best.Id == int.MaxValue ? VocabularyProjection.Tail : best.Id;
    }

    private static int Levenshtein(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        Span<int> row = stackalloc int[b.Length + 1];
        for (var k = 0; k <= b.Length; k++) row[k] = k;
        for (var i = 1; i <= a.Length; i++)
        {
            var diagonal = row[0];
            row[0] = i;
            for (var k = 1; k <= b.Length; k++)
            {
                var above = row[k];
                row[k] = Math.Min(Math.Min(row[k - 1] + 1, above + 1), diagonal + (a[i - 1] == b[k - 1] ? 0 : 1));
                diagonal = above;
            }
        }
        return row[b.Length];
    }

    private void Walk(int node, int depth, ReadOnlySpan<byte> query, int[] rows, int width, ref (int Distance, int Id) best)
    {
        var prev = rows.AsSpan((depth - 1) * width, width);
        var row = rows.AsSpan(depth * width, width);
        var label = _label[node];
        row[0] = depth;
        var rowMin = depth;
        for (var k = 1; k < width; k++)
        {
            var cost = query[k - 1] == label ? 0 : 1;
            var d = Math.Min(Math.Min(row[k - 1] + 1, prev[k] + 1), prev[k - 1] + cost);
            row[k] = d;
            if (d < rowMin) rowMin = d;
        }
        if (rowMin > best.Distance) return;
        var id = _token[node];
        var distance = row[width - 1];
        if (id >= 0 && (distance < best.Distance || distance == best.Distance && id < best.Id))
            best = (distance, id);
        for (var c = _firstChild[node]; c >= 0; c = _nextSibling[c]) Walk(c, depth + 1, query, rows, width, ref best);
    }
}
