using MultiTeacher.Cache;

namespace MultiTeacher.Tests.Cache;

/// <summary>The lossless layers under the cache: the range coder, the rank table and the per-record coder.</summary>
[Trait("Category", TestCategory.Unit)]
public class CacheCodingTests
{
    [Theory]
    [InlineData(0.05)]
    [InlineData(0.5)]
    public void AdaptiveBits_CostAboutTheirEntropy(double ones)
    {
        // 20000 bits with P(1) = 0.05 carry H = 0.2864 bits each (716 bytes); at 0.5, one bit each (2500 bytes).
        // The adaptive model pays a few percent for tracking the rate.
        var rng = new Random(1);
        var bits = Enumerable.Range(0, 20000).Select(_ => rng.NextDouble() < ones ? 1 : 0).ToArray();
        var output = new List<byte>();
        var encoder = new RangeCoder.Encoder(output);
        var model = RangeCoder.Models(1);
        foreach (var b in bits) encoder.Bit(ref model[0], b);
        encoder.Flush();
        var entropy = -(ones * Math.Log2(ones) + (1 - ones) * Math.Log2(1 - ones)) * bits.Length / 8;
        Assert.InRange(output.Count, entropy * 0.9, entropy * 1.15 + 5);
        var decoder = new RangeCoder.Decoder(output.ToArray());
        model = RangeCoder.Models(1);
        var decoded = new int[bits.Length];
        for (var i = 0; i < bits.Length; i++) decoded[i] = decoder.Bit(ref model[0]);
        Assert.Equal(bits, decoded);
    }

    [Fact]
    public void TreeCodedValues_RoundTrip_AndSkewedOnesCompress()
    {
        // 4000 values of 6 bits, 90% of them 37: far below the 3000 raw bytes.
        var rng = new Random(2);
        var values = Enumerable.Range(0, 4000).Select(_ => rng.NextDouble() < 0.9 ? 37u : (uint)rng.Next(64)).ToArray();
        var output = new List<byte>();
        var encoder = new RangeCoder.Encoder(output);
        var models = RangeCoder.Models(1 << 6);
        foreach (var v in values) encoder.Tree(models, 0, v, 6);
        encoder.Flush();
        Assert.True(output.Count < 1200, $"{output.Count} bytes");
        var decoder = new RangeCoder.Decoder(output.ToArray());
        models = RangeCoder.Models(1 << 6);
        var decoded = new uint[values.Length];
        for (var i = 0; i < values.Length; i++) decoded[i] = decoder.Tree(models, 0, 6);
        Assert.Equal(values, decoded);
    }

    [Fact]
    public void Models_StartAtOneHalf()
    {
        Assert.Equal([1024, 1024, 1024], RangeCoder.Models(3));
        Assert.Equal(1024, RangeCoder.Even);
    }

    [Fact]
    public void DamagedBlockHeader_IsRejected()
    {
        Assert.Throws<InvalidDataException>(() => { var d = new RangeCoder.Decoder(new byte[] { 0, 0, 0, 0 }); });
        Assert.Throws<InvalidDataException>(() => { var d = new RangeCoder.Decoder(new byte[] { 1, 0, 0, 0, 0 }); });
    }

    [Fact]
    public void EmptyRecord_IsTheFiveByteFlush_AndDecodesToNothing()
    {
        // The flush writes the pending byte and the 4 bytes of the coder's low end: all zero when nothing was coded.
        var table = RankTable.Build([]);
        var bytes = TopKRecordCoder.Encode([], table);
        Assert.Equal(new byte[5], bytes);
        Assert.Empty(TopKRecordCoder.Decode(bytes, 0, table));
    }

    private static QuantizedPosition Position(int[] ids, int[] levels, int tail) => new(ids, levels, tail);

    [Fact]
    public void RankTable_OrdersIdsByFrequency_TiesByIdAscending_AndWritesVarints()
    {
        // 300 occurs three times, 5 and 2 once each: ranks 300, 2, 5.
        var table = RankTable.Build([Position([300, 5], [9, 3], 0), Position([300, 2], [9, 3], 0), Position([300], [9], 0)]);
        Assert.Equal((3, 300, 2, 5), (table.Count, table.IdOf(0), table.IdOf(1), table.IdOf(2)));
        Assert.Equal((0, 1, 2), (table.RankOf(300), table.RankOf(2), table.RankOf(5)));
        var stream = new MemoryStream();
        table.Write(stream);
        // Count 3 as little-endian int32, then 300 = 0b10_0101100 → 0xAC 0x02, then 0x02, 0x05.
        Assert.Equal(new byte[] { 3, 0, 0, 0, 0xAC, 0x02, 0x02, 0x05 }, stream.ToArray());
        ReadOnlySpan<byte> input = [.. stream.ToArray(), 0x77];
        var read = RankTable.Read(ref input, vocabulary: 301);
        Assert.Equal((300, 2, 5), (read.IdOf(0), read.IdOf(1), read.IdOf(2)));
        Assert.Equal([0x77], input.ToArray());
    }

    [Fact]
    public void RankTable_WritesIdsFrom128Up_InSevenBitGroups_AndReadsThemBack()
    {
        // Equal counts rank by id: 127, 128, 16383, 16384. 127 = 0x7F; 128 = 0b1_0000000 → 0x80 0x01;
        // 16383 = 0b1111111_1111111 → 0xFF 0x7F; 16384 = 0b1_0000000_0000000 → 0x80 0x80 0x01.
        var table = RankTable.Build([Position([16384, 128, 16383, 127], [9, 9, 9, 9], 0)]);
        var stream = new MemoryStream();
        table.Write(stream);
        Assert.Equal(new byte[] { 4, 0, 0, 0, 0x7F, 0x80, 0x01, 0xFF, 0x7F, 0x80, 0x80, 0x01 }, stream.ToArray());
        ReadOnlySpan<byte> input = stream.ToArray();
        var read = RankTable.Read(ref input, vocabulary: 16385);
        Assert.Equal((127, 128, 16383, 16384), (read.IdOf(0), read.IdOf(1), read.IdOf(2), read.IdOf(3)));
    }

    [Fact]
    public void RankTable_OfEveryIdInTheVocabulary_OrOfNone_ReadsBack()
    {
        ReadOnlySpan<byte> full = [3, 0, 0, 0, 2, 0, 1];
        var read = RankTable.Read(ref full, vocabulary: 3);
        Assert.Equal((3, 2, 0, 1), (read.Count, read.IdOf(0), read.IdOf(1), read.IdOf(2)));
        ReadOnlySpan<byte> empty = [0, 0, 0, 0];
        Assert.Equal(0, RankTable.Read(ref empty, vocabulary: 3).Count);
    }

    [Theory]
    [InlineData(new byte[] { 2, 0, 0, 0, 1 }, "rank table is damaged")]                           // ends inside the list
    [InlineData(new byte[] { 1, 0, 0, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 }, "rank table is damaged")]   // varint longer than 5 bytes
    [InlineData(new byte[] { 1, 0, 0, 0, 0xAC, 0x02 }, "outside the vocabulary of 300")]          // id 300
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF }, "rank table of -1 ids")]
    [InlineData(new byte[] { 0x2D, 0x01, 0, 0 }, "rank table of 301 ids")]
    [InlineData(new byte[] { 2, 0, 0, 0, 7, 7 }, "lists id 7 twice")]
    public void DamagedRankTable_IsRejected(byte[] bytes, string message)
    {
        var e = Assert.Throws<InvalidDataException>(() => { ReadOnlySpan<byte> input = bytes; RankTable.Read(ref input, vocabulary: 300); });
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void RankTable_RejectsUnknownIdsAndRanks()
    {
        var table = RankTable.Build([Position([4], [9], 0)]);
        Assert.Throws<ArgumentException>(() => table.RankOf(5));
        Assert.Throws<InvalidDataException>(() => table.IdOf(1));
        Assert.Throws<InvalidDataException>(() => table.IdOf(-1));
    }

    [Fact]
    public void RecordCoder_RoundTripsPositions_WithRunsOfEqualLevelsAndEveryTailLevel()
    {
        var rng = new Random(4);
        var positions = new List<QuantizedPosition>();
        for (var i = 0; i < 400; i++)
        {
            var n = i % 50 == 0 ? 1 : rng.Next(1, 70);
            var ids = Enumerable.Range(0, 5000).OrderBy(_ => rng.Next()).Take(n).ToArray();
            var levels = new int[n];
            levels[0] = rng.Next(1, 257);
            for (var j = 1; j < n; j++) levels[j] = Math.Max(1, levels[j - 1] - (rng.NextDouble() < 0.4 ? 0 : rng.Next(0, 40)));
            positions.Add(Position(ids, levels, i % 7 == 0 ? 0 : i % 11 == 0 ? TopKCodec.TailLevels : rng.Next(1, TopKCodec.TailLevels)));
        }
        var table = RankTable.Build(positions);
        var bytes = TopKRecordCoder.Encode(positions, table);
        var decoded = TopKRecordCoder.Decode(bytes, positions.Count, table);
        for (var i = 0; i < positions.Count; i++)
        {
            var expected = TopKCodec.Dequantize(positions[i]);
            // Entries of equal level carry no order: compare as sets of (id, log-prob).
            Assert.Equal(expected.Ids.Zip(expected.LogProbs).Order(), decoded[i].Ids.Zip(decoded[i].LogProbs).Order());
            Assert.Equal(expected.Tail, decoded[i].Tail);
        }
        // Levels, gaps and ranks cost far less than a 2-byte id plus a level byte per entry.
        Assert.True(bytes.Length < 2.5 * positions.Sum(p => p.Ids.Length), $"{bytes.Length} bytes");
    }

    [Fact]
    public void RecordCoder_RoundTripsTheWidestGap_FromTheTopLevelToTheBottom()
    {
        // A gap of 255 levels (256 → 1) is the largest the 8-bit gap code holds: 255 + 1 = 2^8.
        var positions = new List<QuantizedPosition> { Position([3, 1], [256, 1], TopKCodec.TailLevels), Position([1], [2], 1) };
        var table = RankTable.Build(positions);
        var decoded = TopKRecordCoder.Decode(TopKRecordCoder.Encode(positions, table), positions.Count, table);
        for (var i = 0; i < positions.Count; i++)
        {
            var expected = TopKCodec.Dequantize(positions[i]);
            Assert.Equal(expected.Ids, decoded[i].Ids);
            Assert.Equal(expected.LogProbs, decoded[i].LogProbs);
            Assert.Equal(expected.Tail, decoded[i].Tail);
        }
    }

    [Fact]
    public void RecordCoder_RejectsACountOfEntriesItCannotCode_AndATruncatedRecord()
    {
        var table = RankTable.Build([Position([1], [5], 0)]);
        Assert.Throws<ArgumentOutOfRangeException>(() => TopKRecordCoder.Encode([Position([1], [5], 1 << 14)], table));
        var bytes = TopKRecordCoder.Encode(Enumerable.Repeat(Position([1], [5], 7), 50).ToList(), table);
        Assert.Throws<InvalidDataException>(() => TopKRecordCoder.Decode(bytes.AsSpan(0, 6), 50, table));
    }
}
