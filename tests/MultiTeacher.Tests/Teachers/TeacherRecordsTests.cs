using MultiTeacher.Models;
using MultiTeacher.Teachers;
using MultiTeacher.Tests.Models;
using static TorchSharp.torch;

namespace MultiTeacher.Tests.Teachers;

[Trait("Category", TestCategory.Unit)]
public sealed class TeacherRecordsTests
{
    /// <summary>
    /// The deliberately plain way: each sequence through the model on its own (no padding), a softmax
    /// in double, every token sorted by probability, the first k kept, the tail the sum of the others.
    /// </summary>
    private static List<(int[] Ids, double[] LogProbs, double Tail)> Naive(CausalLM model, int[] sequence, int k)
    {
        double[] logits;
        using (no_grad())
            logits = model.forward(tensor(sequence.Select(i => (long)i).ToArray()).unsqueeze(0)).to(float64).contiguous().data<double>().ToArray();   // (1, T, V)
        var vocab = logits.Length / sequence.Length;
        var result = new List<(int[], double[], double)>();
        for (var t = 0; t < sequence.Length; t++)
        {
            var row = logits.AsSpan(t * vocab, vocab).ToArray();
            var max = row.Max();
            var z = row.Sum(l => Math.Exp(l - max));
            var p = row.Select(l => Math.Exp(l - max) / z).ToArray();
            var order = Enumerable.Range(0, vocab).OrderByDescending(i => p[i]).ToArray();
            var kept = order.Take(k).ToArray();
            result.Add((kept, kept.Select(i => Math.Log(p[i])).ToArray(), order.Skip(k).Sum(i => p[i])));
        }
        return result;
    }

    [Theory]
    [InlineData(16)]
    [InlineData(400)]   // more than the vocabulary: every token kept, nothing in the tail
    public void Records_EqualANaiveSoftmaxSortTakeKAndSumTheRest_ForSequencesOfDifferentLengths(int topK)
    {
        using var model = TinyModels.Create(TinyModels.Config("qwen3", vocab: 320), seed: 11);
        var rng = new Random(5);
        int[][] sequences = [.. new[] { 7, 12, 1 }.Select(n => Enumerable.Range(0, n).Select(_ => rng.Next(320)).ToArray())];

        var records = TeacherRecords.Compute(model, sequences, topK);

        var k = Math.Min(topK, 320);
        Assert.Equal(k, records.K);
        Assert.Equal([7, 12, 1], records.Lengths);
        for (var b = 0; b < sequences.Length; b++)
        {
            var naive = Naive(model, sequences[b], k);
            for (var t = 0; t < sequences[b].Length; t++)
            {
                var (ids, logProbs, tail) = naive[t];
                // The top entries are separated by far more than float rounding; the last few of a
                // full vocabulary may swap with neighbours within it, so those compare as sets.
                var firm = Math.Min(k, 8);
                Assert.Equal(ids[..firm], records.Ids(b, t)[..firm].ToArray());
                Assert.Equal(ids.Order(), records.Ids(b, t).ToArray().Order());
                for (var c = 0; c < k; c++)
                    Assert.Equal(logProbs[Array.IndexOf(ids, records.Ids(b, t)[c])], records.LogProbs(b, t)[c], 4e-5);
                Assert.Equal(tail, records.Tail(b, t), 2e-5);
            }
            Assert.Throws<ArgumentOutOfRangeException>(() => records.Tail(b, sequences[b].Length));
        }
    }
}
