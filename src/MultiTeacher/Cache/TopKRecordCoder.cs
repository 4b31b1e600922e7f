using System.Numerics;

namespace MultiTeacher.Cache;

/// <summary>
/// Entropy coding of one record's quantised positions (<see cref="TopKCodec"/>) with adaptive
/// models that start fresh per record, so any record decodes on its own. Per position: the entry
/// count, the top level and the gaps down the non-increasing level list, the tail level, then the
/// ids as ranks of the file's <see cref="RankTable"/>; entries of equal level carry no order, so
/// within such a run the ranks are sorted and only their differences are coded.
/// </summary>
public static class TopKRecordCoder
{
    private const int LevelBits = TopKCodec.LevelBits;   // levels 1..TopKCodec.Levels, coded as level - 1

    private sealed class Models
    {
        public readonly GammaModel Count = new(maxBits: 16, contexts: 1);
        public readonly ushort[] TopLevel = RangeCoder.Models(1 << LevelBits);
        public readonly GammaModel Gap = new(maxBits: LevelBits, contexts: 12);
        public readonly GammaModel Tail = new(maxBits: 13, contexts: 1);
        public readonly GammaModel Rank = new(maxBits: 24, contexts: 6);
    }

    public static byte[] Encode(IReadOnlyList<QuantizedPosition> positions, RankTable ranks)
    {
        var output = new List<byte>(positions.Count * 64);
        var coder = new RangeCoder.Encoder(output);
        var m = new Models();
        var sorted = new List<int>();
        foreach (var q in positions)
        {
            var n = q.Ids.Length;
            m.Count.Encode(coder, 0, (uint)(n - 1));
            coder.Tree(m.TopLevel, 0, (uint)(q.Levels[0] - 1), LevelBits);
            for (var j = 1; j < n; j++)
                m.Gap.Encode(coder, GapContext(j, j == 1 ? 1 : q.Levels[j - 2] - q.Levels[j - 1]), (uint)(q.Levels[j - 1] - q.Levels[j]));
            m.Tail.Encode(coder, 0, (uint)q.TailLevel);
            for (var start = 0; start < n;)
            {
                var end = start;
                while (end < n && q.Levels[end] == q.Levels[start]) end++;
                sorted.Clear();
                for (var j = start; j < end; j++) sorted.Add(ranks.RankOf(q.Ids[j]));
                sorted.Sort();
                var level = LevelClass(q.Levels[start]);
                m.Rank.Encode(coder, level * 2, (uint)sorted[0]);
                for (var j = 1; j < sorted.Count; j++) m.Rank.Encode(coder, level * 2 + 1, (uint)(sorted[j] - sorted[j - 1] - 1));
                start = end;
            }
        }
        coder.Flush();
        return output.ToArray();
    }

    public static CachedPosition[] Decode(ReadOnlySpan<byte> input, int count, RankTable ranks)
    {
        var decoder = new RangeCoder.Decoder(input);
        var m = new Models();
        var result = new CachedPosition[count];
        for (var i = 0; i < count; i++)
        {
            var n = (int)m.Count.Decode(ref decoder, 0) + 1;
            if (n > 1 << 16) throw new InvalidDataException($"position with {n} entries");
            var levels = new int[n];
            levels[0] = (int)decoder.Tree(m.TopLevel, 0, LevelBits) + 1;
            for (var j = 1; j < n; j++)
            {
                levels[j] = levels[j - 1] - (int)m.Gap.Decode(ref decoder, GapContext(j, j == 1 ? 1 : levels[j - 2] - levels[j - 1]));
                if (levels[j] < 1) throw new InvalidDataException("probability levels out of range");
            }
            var tailLevel = (int)m.Tail.Decode(ref decoder, 0);
            if (tailLevel > TopKCodec.TailLevels) throw new InvalidDataException("tail level out of range");
            var ids = new int[n];
            for (var start = 0; start < n;)
            {
                var end = start;
                while (end < n && levels[end] == levels[start]) end++;
                var level = LevelClass(levels[start]);
                var rank = (int)m.Rank.Decode(ref decoder, level * 2);
                ids[start] = ranks.IdOf(rank);
                for (var j = start + 1; j < end; j++) ids[j] = ranks.IdOf(rank += (int)m.Rank.Decode(ref decoder, level * 2 + 1) + 1);
                start = end;
            }
            result[i] = TopKCodec.Dequantize(new QuantizedPosition(ids, levels, tailLevel));
        }
        return result;
    }

    // Gaps shrink down the list and runs of equal levels cluster: the entry index and the previous gap predict the next.
    private static int GapContext(int j, int previousGap) => Math.Min(j, 4) - 1 + 4 * Math.Min(previousGap, 2);

    // Likely tokens are context-specific, unlikely ones are the frequent filler: separate rank statistics.
    private static int LevelClass(int level) => level >= 32 ? 2 : level >= 8 ? 1 : 0;

    /// <summary>Adaptive Elias-gamma code: the bit length through a tree, the top mantissa bits adaptively, the rest plain.</summary>
    private sealed class GammaModel(int maxBits, int contexts)
    {
        private const int LengthBits = 5;
        private const int AdaptiveMantissa = 3;
        private readonly ushort[] _length = RangeCoder.Models(contexts << LengthBits);
        private readonly ushort[] _mantissa = RangeCoder.Models((contexts * (maxBits + 1)) << AdaptiveMantissa);

        public void Encode(RangeCoder.Encoder coder, int context, uint value)
        {
            var v = (ulong)value + 1;
            var b = 63 - BitOperations.LeadingZeroCount(v);
            if (b > maxBits) throw new ArgumentOutOfRangeException(nameof(value), $"{value} needs more than {maxBits} bits");
            coder.Tree(_length, context << LengthBits, (uint)b, LengthBits);
            if (b == 0) return;
            var mantissa = (uint)(v - (1UL << b));
            var a = Math.Min(b, AdaptiveMantissa);
            coder.Tree(_mantissa, (context * (maxBits + 1) + b) << AdaptiveMantissa, mantissa >> (b - a), a);
            coder.Direct(mantissa & ((1u << (b - a)) - 1), b - a);
        }

        public uint Decode(ref RangeCoder.Decoder decoder, int context)
        {
            var b = (int)decoder.Tree(_length, context << LengthBits, LengthBits);
            if (b > maxBits) throw new InvalidDataException("coded value out of range");
            if (b == 0) return 0;
            var a = Math.Min(b, AdaptiveMantissa);
            var top = decoder.Tree(_mantissa, (context * (maxBits + 1) + b) << AdaptiveMantissa, a);
            var mantissa = (top << (b - a)) | decoder.Direct(b - a);
            return (uint)((1UL << b) + mantissa - 1);
        }
    }
}
