using MultiTeacher.Teachers;
using MultiTeacher.Alignment;
using MultiTeacher.Cache;
using MultiTeacher.Tests.Models;
using MultiTeacher.Tokenization;
using MultiTeacher.Training;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace MultiTeacher.Tests.Cache;

[Trait("Category", TestCategory.Unit)]
public sealed class AlmCacheTests(ITestOutputHelper output) : TempDirectoryTest
{
    private static readonly string[] Texts =
    [
        "The Fulton County Grand Jury said Friday an investigation of Atlanta's recent primary election produced no evidence that any irregularities took place.",
        "It recommended that Fulton legislators act to have these laws studied and revised to the end of modernizing and improving them.",
        "東京は日本の首都です。 Emoji 😀 and   runs of   spaces\n\nand new lines.",
        "x",
    ];

    private static AlmPosition[][] RandomRecords(int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, 5).Select(_ => Enumerable.Range(0, rng.Next(1, 40))
            .Select(_ => new AlmPosition((float)(-rng.NextDouble() * 20), (float)Math.Log(rng.NextDouble()))).ToArray()).ToArray();
    }

    [Fact]
    public void RoundTrip_DecodesEveryValueWithinHalfAStep()
    {
        var records = RandomRecords(1);
        var path = Path.Combine(TempDir, "a.mtalm");
        var written = AlmCache.Write(records, "key", path);
        var cache = AlmCache.TryOpen(path, "key", out var problem) ?? throw new InvalidOperationException(problem);
        Assert.Equal(records.Length, cache.Count);
        Assert.Equal(records.Sum(r => r.Length), cache.Positions);
        Assert.Equal(written.SizeBytes, cache.SizeBytes);
        for (var i = 0; i < records.Length; i++)
        {
            var decoded = cache.Read(i);
            Assert.Equal(records[i].Length, decoded.Length);
            for (var t = 0; t < decoded.Length; t++)
            {
                Assert.InRange(decoded[t].ObservedLogProb - records[i][t].ObservedLogProb, -1 / 2048.0 - 1e-6, 1 / 2048.0 + 1e-6);
                Assert.InRange(decoded[t].BoundaryLogMass - records[i][t].BoundaryLogMass, -1 / 2048.0 - 1e-6, 1 / 2048.0 + 1e-6);
            }
        }
    }

    [Fact]
    public void DamagedTruncatedForeignOrOtherKeyFiles_AreRejected()
    {
        var path = Path.Combine(TempDir, "a.mtalm");
        AlmCache.Write(RandomRecords(2), "key", path);
        var bytes = File.ReadAllBytes(path);

        Assert.Null(AlmCache.TryOpen(path, "other", out var problem));
        Assert.Equal("built for other inputs", problem);

        var altered = (byte[])bytes.Clone();
        altered[altered.Length / 2] ^= 0x10;
        File.WriteAllBytes(path, altered);
        Assert.Null(AlmCache.TryOpen(path, "key", out problem));
        Assert.Contains("checksum", problem);

        File.WriteAllBytes(path, bytes[..(bytes.Length - 7)]);
        Assert.Null(AlmCache.TryOpen(path, "key", out problem));
        Assert.Contains("checksum", problem);

        TeacherCache.Write([[TopKCodec.Quantize([1, 2], [-0.5f, -1.5f], 0.17f, 10)]], "key", 2, 10, path);
        Assert.Null(AlmCache.TryOpen(path, "key", out problem));
        Assert.Equal("not a cache of this version", problem);

        Assert.Null(AlmCache.TryOpen(Path.Combine(TempDir, "none"), "key", out problem));
        Assert.Equal("missing", problem);
    }

    [Fact]
    public void Records_HoldTheObservedLogProbAndTheBoundaryLogMass()
    {
        using var scope = NewDisposeScope();
        var logProbs = nn.functional.log_softmax(randn([2, 4, 5], generator: new Generator(1)), -1);
        var mask = new[] { true, false, false, true, false };
        int[][] ids = [[3, 1, 4, 0], [2, 2]];
        var records = AlmRecords.FromLogProbs(logProbs, ids, tensor(mask));
        var lp = logProbs.data<float>().ToArray();
        for (var b = 0; b < 2; b++)
        {
            Assert.Equal(ids[b].Length, records[b].Length);
            for (var t = 0; t < ids[b].Length; t++)
            {
                var row = lp.Skip((b * 4 + t) * 5).Take(5).ToArray();
                var observed = t + 1 < ids[b].Length ? row[ids[b][t + 1]] : 0f;
                var boundary = Math.Log(Math.Exp(row[0]) + Math.Exp(row[3]));
                Assert.Equal(observed, records[b][t].ObservedLogProb, 6);
                Assert.Equal(boundary, records[b][t].BoundaryLogMass, 5);
            }
        }
        Assert.Equal(records[1], AlmRecords.FromLogProbs(logProbs[1, ..2], ids[1], tensor(mask)));
    }

    [Theory]
    [InlineData("mistral-7b-v0.1", "mistral")]
    [InlineData("qwen3", "qwen3")]
    public void BuiltFromAModel_TakesFourBytesPerToken_AndQuantisationBarelyMovesTheLoss(string family, string modelFamily)
    {
        var tok = TestAssets.Tokenizer(family);
        var config = TinyModels.Config(modelFamily, tok.VocabSize);
        using var teacher = TinyModels.Create(config, seed: 7);
        using var student = TinyModels.Create(config, seed: 8);
        var path = Path.Combine(TempDir, "t.mtalm");
        var key = AlmCache.KeyFor("teacher", tok.ContentHash, Texts);
        var cache = AlmCaches.Build(teacher, tok, Texts, key, path, batchSize: 3);
        var reopened = AlmCache.TryOpen(path, key, out var problem) ?? throw new InvalidOperationException(problem);
        var bytesPerToken = reopened.SizeBytes / (double)reopened.Positions;
        Assert.Equal(Texts.Sum(t => tok.EncodeToIds(t).Length), reopened.Positions);
        Assert.InRange(bytesPerToken, 4, 8);

        using var mask = tensor(BoundaryMask.For(tok, config.VocabSize));
        var (worst, losses) = (0.0, new List<(double Exact, double Cached)>());
        for (var i = 0; i < Texts.Length; i++)
        {
            using var scope = NewDisposeScope();
            var e = tok.Encode(Texts[i]);
            var ids = tensor(e.Ids.Select(x => (long)x).ToArray()).unsqueeze(0);
            AlmPosition[] exact;
            using (no_grad()) exact = AlmRecords.FromLogProbs(nn.functional.log_softmax(teacher.forward(ids)[0], -1), e.Ids, mask);
            var cached = reopened.Read(i);
            for (var t = 0; t < exact.Length; t++)
                worst = Math.Max(worst, Math.Max(Math.Abs(exact[t].ObservedLogProb - cached[t].ObservedLogProb), Math.Abs(exact[t].BoundaryLogMass - cached[t].BoundaryLogMass)));
            var alignment = ChunkAligner.Align(e, tok, e, tok);
            Tensor logits;
            using (no_grad()) logits = student.forward(ids)[0];
            var pair = new double[2];
            foreach (var (records, slot) in new[] { (exact, 0), (cached, 1) })
            {
                var plan = new AlmChunkPlan(new AlmSettings(Temperature: 5));
                plan.Add(alignment, e.Ids, records, 0);
                pair[slot] = AlmLoss.Compute(logits, plan, mask).item<float>();
            }
            losses.Add((pair[0], pair[1]));
        }
        // Fixed point with a 2^-10 step: at most 2^-11 off, plus float32 rounding of the exact values.
        Assert.True(worst <= 1 / 2048.0 + 1e-5, $"worst error {worst}");
        var relative = losses.Where(l => l.Exact > 0).Max(l => Math.Abs(l.Cached - l.Exact) / l.Exact);
        Assert.True(relative < 1e-2, $"relative loss change {relative}");
        output.WriteLine($"{family}: {bytesPerToken:F2} bytes/token over {reopened.Positions} positions ({cache.SizeBytes} bytes), worst |error| {worst:E2} nat, worst relative ALM loss change {relative:E2}");
    }
}
