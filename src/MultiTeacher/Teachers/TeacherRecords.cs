using MultiTeacher.Models;
using static TorchSharp.torch;

namespace MultiTeacher.Teachers;

/// <summary>
/// A teacher's next-token records for a batch of token sequences: at every position its k most
/// likely tokens (teacher ids, log-probabilities, by decreasing probability) and the mass outside
/// them. The one computation behind both the cache builder and teachers run online.
/// </summary>
public sealed class TeacherRecords
{
    private readonly int[] _ids;
    private readonly float[] _logProbs;
    private readonly float[] _tail;
    private readonly int _length;

    /// <summary>Entries per position: the requested k, or the vocabulary if smaller.</summary>
    public int K { get; }
    /// <summary>Positions of each sequence (its token count).</summary>
    public IReadOnlyList<int> Lengths { get; }

    private TeacherRecords(int[] ids, float[] logProbs, float[] tail, int length, int k, int[] lengths)
        => (_ids, _logProbs, _tail, _length, K, Lengths) = (ids, logProbs, tail, length, k, lengths);

    public ReadOnlySpan<int> Ids(int sequence, int position) => _ids.AsSpan(At(sequence, position) * K, K);
    public ReadOnlySpan<float> LogProbs(int sequence, int position) => _logProbs.AsSpan(At(sequence, position) * K, K);
    public float Tail(int sequence, int position) => _tail[At(sequence, position)];

    private int At(int sequence, int position)
    {
        if ((uint)position >= (uint)Lengths[sequence]) throw new ArgumentOutOfRangeException(nameof(position), $"sequence {sequence} has {Lengths[sequence]} positions");
        return sequence * _length + position;
    }

    /// <summary>
    /// Runs the teacher once over the sequences and keeps each position's top-k and tail mass,
    /// reducing the logits <paramref name="chunkTokens"/> positions at a time (see <see cref="TeacherForward.Chunks"/>).
    /// </summary>
    public static TeacherRecords Compute(CausalLM teacher, IReadOnlyList<int[]> sequences, int topK, int chunkTokens = TeacherForward.DefaultChunkTokens)
    {
        var lengths = sequences.Select(s => s.Length).ToArray();
        var length = lengths.DefaultIfEmpty(0).Max();
        if (length == 0) return new TeacherRecords([], [], [], 0, 0, lengths);
        var k = Math.Min(topK, teacher.Config.VocabSize);
        var v = new float[sequences.Count * length * k];
        var x = new int[v.Length];
        var tail = new float[sequences.Count * length];
        TeacherForward.Chunks(teacher, sequences, chunkTokens, (flat, logProbs) =>
        {
            var (values, indices) = logProbs.topk(k, dim: -1);                               // (n, k)
            var cv = values.cpu().contiguous().data<float>().ToArray();
            var cx = indices.to(ScalarType.Int32).cpu().contiguous().data<int>().ToArray();
            Parallel.For(0, flat.Length, r =>
            {
                var at = (int)flat[r];
                Array.Copy(cv, r * k, v, at * k, k);
                Array.Copy(cx, r * k, x, at * k, k);
                var kept = 0.0;
                for (var c = 0; c < k; c++) kept += Math.Exp(cv[r * k + c]);
                tail[at] = (float)Math.Max(0, 1 - kept);
            });
        });
        return new TeacherRecords(x, v, tail, length, k, lengths);
    }
}
