using MultiTeacher.Cache;
using MultiTeacher.Tests.Models;
using static TorchSharp.torch;

namespace MultiTeacher.Tests.Cache;

[Trait("Category", TestCategory.Unit)]
public sealed class TeacherCacheTests : TempDirectoryTest
{
    /// <summary>
    /// Top-k of language-model-like distributions: probabilities ∝ r^-s over ranks r (s from 0.5 to
    /// 2, plus noise), the tail mass what ranks past k hold. Which tokens fill the top-k is drawn
    /// either from a Zipfian unigram table (language models share frequent tokens across
    /// positions) or uniformly (the worst case for the id coder).
    /// </summary>
    private static List<(int[] Ids, float[] LogProbs, float Tail)> Distributions(int vocab, int k, int count, int seed, bool sharedFrequentTokens)
    {
        var rng = new Random(seed);
        var unigram = new double[vocab];
        for (var v = 0; v < vocab; v++) unigram[v] = (v == 0 ? 0 : unigram[v - 1]) + 1.0 / (v + 1);
        var result = new List<(int[], float[], float)>();
        for (var n = 0; n < count; n++)
        {
            var sharpness = 0.5 + rng.NextDouble() * 1.5;
            double z = 0;
            for (var r = 1; r <= vocab; r++) z += Math.Pow(r, -sharpness);
            var ids = new HashSet<int>();
            while (ids.Count < k)
                ids.Add(sharedFrequentTokens ? Math.Min(vocab - 1, ~Array.BinarySearch(unigram, rng.NextDouble() * unigram[^1]) & int.MaxValue) : rng.Next(vocab));
            var weights = Enumerable.Range(1, k).Select(r => Math.Pow(r, -sharpness) * Math.Exp(rng.NextDouble() * 0.3)).ToArray();
            var top = weights.Sum();
            var tail = 1 - Enumerable.Range(1, k).Sum(r => Math.Pow(r, -sharpness)) / z;
            var lp = weights.Select(w => (float)Math.Log(w / top * (1 - tail))).ToArray();
            result.Add((ids.ToArray(), lp, (float)tail));
        }
        return result;
    }

    private (double BytesPerPosition, double WorstKl) Store(List<(int[] Ids, float[] LogProbs, float Tail)> exact, int vocab, int k)
    {
        var records = exact.Chunk(16).Select(chunk => chunk.Select(e => TopKCodec.Quantize(e.Ids, e.LogProbs, e.Tail, vocab)).ToArray()).ToList();
        var path = Path.Combine(TempDir, "synthetic.mtcache");
        TeacherCache.Write(records, "key", k, vocab, path);
        var cache = TeacherCache.TryOpen(path, "key", out var problem) ?? throw new InvalidOperationException(problem);
        double worst = 0;
        for (var r = 0; r < records.Count; r++)
        {
            var decoded = cache.Read(r);
            for (var i = 0; i < records[r].Length; i++)
            {
                var (ids, lp, tail) = exact[r * 16 + i];
                var expected = TopKCodec.Dequantize(records[r][i]);
                Assert.Equal(expected.Ids.Zip(expected.LogProbs).Order(), decoded[i].Ids.Zip(decoded[i].LogProbs).Order());
                worst = Math.Max(worst, TopKCodec.Kl(ids, lp, tail, decoded[i], vocab));
            }
        }
        return (new FileInfo(path).Length / (double)exact.Count, worst);
    }

    // Independent Zipf(1) ids carry about 10.6 bits each and the noise on these probabilities about
    // 4 bits per level: measured 127 bytes per position, 19 of them the file's rank table. Uniform ids
    // carry log2(32000) bits: measured 159 bytes, under a plain 2-byte id plus 1 byte of probability.
    // Real teachers' top-k lists are far more regular (docs/benchmarks.md: about 50 bytes).
    [Theory]
    [InlineData(true, 2.25)]
    [InlineData(false, 3.0)]
    public void Codec_KeepsEveryPositionWithinItsKlBudget_AndCodesIdsBelowTheirRawSize(bool sharedFrequentTokens, double bytesPerEntry)
    {
        const int vocab = 32000, k = 64;
        var (bytes, worstKl) = Store(Distributions(vocab, k, 3000, seed: 4, sharedFrequentTokens), vocab, k);
        Assert.True(worstKl <= TopKCodec.KlBudget * 1.001, $"worst KL {worstKl}");
        Assert.True(bytes <= bytesPerEntry * k, $"{bytes:F1} bytes per position");
    }

    [Fact]
    public void RangeCoder_RoundTripsAdaptiveAndDirectBits_AndRejectsATruncatedBlock()
    {
        var rng = new Random(3);
        var values = Enumerable.Range(0, 5000).Select(_ => (Bit: rng.NextDouble() < 0.9 ? 0 : 1, Raw: (uint)rng.Next(1 << 12))).ToArray();
        var output = new List<byte>();
        var encoder = new RangeCoder.Encoder(output);
        var models = RangeCoder.Models(2);
        foreach (var (bit, raw) in values) { encoder.Bit(ref models[0], bit); encoder.Direct(raw, 12); }
        encoder.Flush();
        var bytes = output.ToArray();
        var decoder = new RangeCoder.Decoder(bytes);
        models = RangeCoder.Models(2);
        foreach (var (bit, raw) in values)
        {
            Assert.Equal(bit, decoder.Bit(ref models[0]));
            Assert.Equal(raw, decoder.Direct(12));
        }
        Assert.Equal(0, decoder.Remaining.Length);
        Assert.Throws<InvalidDataException>(() =>
        {
            var cut = new RangeCoder.Decoder(bytes.AsSpan(0, bytes.Length / 2));
            var m = RangeCoder.Models(1);
            foreach (var _ in values) { cut.Bit(ref m[0]); cut.Direct(12); }
        });
    }

    [Fact]
    public void Cache_RoundTrips_AndRejectsTruncatedAlteredOrForeignFiles()
    {
        var config = TinyModels.Config("mistral", vocab: 32000);
        using var teacher = TinyModels.Create(config);
        var tokenizer = TestAssets.Tokenizer("mistral-7b-v0.1");
        string[] texts = ["The jury said it did find that many of Georgia's laws are outmoded.", "A second, shorter text."];
        var key = TeacherCache.KeyFor("teacher", tokenizer.ContentHash, texts, 16);
        var path = Path.Combine(TempDir, "t.mtcache");
        var built = MultiTeacher.Teachers.TeacherCaches.Build(teacher, tokenizer, texts, 16, key, path);

        var opened = TeacherCache.TryOpen(path, key, out var problem);
        Assert.NotNull(opened);
        Assert.Null(problem);
        Assert.Equal(built.Positions, opened!.Positions);
        var ids = tokenizer.EncodeToIds(texts[0]);
        Assert.Equal(ids.Length, opened.Read(0).Count);
        using (no_grad())
        {
            var exact = nn.functional.log_softmax(teacher.forward(tensor(ids.Select(i => (long)i).ToArray()).unsqueeze(0)), -1)[0, 3];
            var stored = opened.Read(0)[3];
            var best = exact.argmax().item<long>();
            Assert.Contains((int)best, stored.Ids);
            Assert.Equal(exact[best].item<float>(), stored.LogProbs.Max(), 1);
        }

        Assert.Null(TeacherCache.TryOpen(path, "another key", out problem));
        Assert.Equal("built for other inputs", problem);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length - 50)]);
        Assert.Null(TeacherCache.TryOpen(path, key, out problem));
        Assert.Contains("checksum", problem);
        bytes[bytes.Length / 2] ^= 1;
        File.WriteAllBytes(path, bytes);
        Assert.Null(TeacherCache.TryOpen(path, key, out _));
    }
}
