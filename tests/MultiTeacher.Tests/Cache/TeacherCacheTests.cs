using MultiTeacher.Cache;
using MultiTeacher.Tests.Models;
using static TorchSharp.torch;

namespace MultiTeacher.Tests.Cache;

public sealed class TeacherCacheTests : TempDirectoryTest
{
    /// <summary>Top-k of language-model-like distributions: Zipf-shaped logits plus noise, several sharpness levels.</summary>
    private static IEnumerable<(int[] Ids, float[] LogProbs, float Tail)> Distributions(int vocab, int k, int count, int seed)
    {
        var rng = new Random(seed);
        var logits = new double[vocab];
        for (var n = 0; n < count; n++)
        {
            var sharpness = 0.5 + rng.NextDouble() * 1.5;
            var permutation = Enumerable.Range(0, vocab).OrderBy(_ => rng.Next()).ToArray();
            for (var r = 0; r < vocab; r++) logits[permutation[r]] = -sharpness * Math.Log(r + 1) + rng.NextDouble() * 0.5;
            var max = logits.Max();
            var logZ = max + Math.Log(logits.Sum(l => Math.Exp(l - max)));
            var top = Enumerable.Range(0, vocab).OrderByDescending(v => logits[v]).Take(k).ToArray();
            var lp = top.Select(v => (float)(logits[v] - logZ)).ToArray();
            yield return (top, lp, (float)Math.Max(0, 1 - lp.Sum(x => Math.Exp(x))));
        }
    }

    [Fact]
    public void Codec_StaysWithinKl1e3_AtK64_InAtMost3BytesPerEntry()
    {
        const int vocab = 32000, k = 64;
        double worstKl = 0, bytes = 0;
        var count = 0;
        foreach (var (ids, lp, tail) in Distributions(vocab, k, 60, seed: 4))
        {
            using var stream = new MemoryStream();
            TopKCodec.Encode(ids, lp, tail, stream);
            ReadOnlySpan<byte> encoded = stream.ToArray();
            bytes += encoded.Length;
            var decoded = TopKCodec.Decode(ref encoded);
            Assert.Equal(0, encoded.Length);
            worstKl = Math.Max(worstKl, TopKCodec.Kl(ids, lp, tail, decoded, vocab));
            count++;
        }
        Assert.True(worstKl < 1e-3, $"worst KL {worstKl}");
        // Measured: about 183 bytes per position (about 2 bytes of delta-coded id and 1 byte of
        // log-prob per entry, plus 5 bytes of header per position).
        Assert.True(bytes / count <= 3 * k + 5, $"{bytes / count:F1} bytes per position");
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
        var built = TeacherCache.Build(teacher, tokenizer, texts, 16, key, path);

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
