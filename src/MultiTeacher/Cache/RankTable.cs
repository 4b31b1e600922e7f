namespace MultiTeacher.Cache;

/// <summary>
/// A cache file's teacher ids ordered by how often they occur among its stored entries, so the
/// entropy coder sees small numbers for the common tokens (next-token top-k lists share a few
/// thousand frequent tokens). Stored once per file as varints.
/// </summary>
public sealed class RankTable
{
    private readonly int[] _idOfRank;
    private readonly Dictionary<int, int> _rankOfId;

    private RankTable(int[] idOfRank)
    {
        _idOfRank = idOfRank;
        _rankOfId = new Dictionary<int, int>(idOfRank.Length);
        for (var r = 0; r < idOfRank.Length; r++)
            if (!_rankOfId.TryAdd(idOfRank[r], r)) throw new InvalidDataException($"rank table lists id {idOfRank[r]} twice");
    }

    public int Count => _idOfRank.Length;

    public static RankTable Build(IEnumerable<QuantizedPosition> positions)
    {
        var counts = new Dictionary<int, long>();
        foreach (var p in positions)
            foreach (var id in p.Ids) counts[id] = counts.GetValueOrDefault(id) + 1;
        return new RankTable(counts.OrderByDescending(c => c.Value).ThenBy(c => c.Key).Select(c => c.Key).ToArray());
    }

    public int RankOf(int id) => _rankOfId.TryGetValue(id, out var r) ? r : throw new ArgumentException($"id {id} is not in the rank table");

    public int IdOf(int rank) => (uint)rank < (uint)_idOfRank.Length ? _idOfRank[rank] : throw new InvalidDataException($"rank {rank} is outside the table of {_idOfRank.Length}");

    public void Write(Stream output)
    {
        output.Write(BitConverter.GetBytes(_idOfRank.Length));
        foreach (var id in _idOfRank)
        {
            var v = (uint)id;
            while (v >= 0x80) { output.WriteByte((byte)(v | 0x80)); v >>= 7; }
            output.WriteByte((byte)v);
        }
    }

    public static RankTable Read(ref ReadOnlySpan<byte> input, int vocabulary)
    {
        var count = BitConverter.ToInt32(input);
        if (count < 0 || count > vocabulary) throw new InvalidDataException($"rank table of {count} ids for a vocabulary of {vocabulary}");
        input = input[4..];
        var ids = new int[count];
        for (var r = 0; r < count; r++)
        {
            uint v = 0;
            for (var shift = 0; ; shift += 7)
            {
                if (shift > 28 || input.IsEmpty) throw new InvalidDataException("rank table is damaged");
                var b = input[0];
                input = input[1..];
                v |= (uint)(b & 0x7F) << shift;
                if (b < 0x80) break;
            }
            if (v >= vocabulary) throw new InvalidDataException($"rank table holds id {v}, outside the vocabulary of {vocabulary}");
            ids[r] = (int)v;
        }
        return new RankTable(ids);
    }
}
