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

    /// <summary>Runs the teacher once over the sequences (see <see cref="TeacherForward.LogProbs"/>) and keeps each position's top-k and tail mass.</summary>
    public static TeacherRecords Compute(CausalLM teacher, IReadOnlyList<int[]> sequences, int topK)
    {
        using var scope = NewDisposeScope();
        var lengths = sequences.Select(s => s.Length).ToArray();
        var length = lengths.DefaultIfEmpty(0).Max();
        if (length == 0) return new TeacherRecords([], [], [], 0, 0, lengths);
        var logProbs = TeacherForward.LogProbs(teacher, sequences);                          // (B, T, V)
        var k = (int)Math.Min(topK, logProbs.shape[^1]);
        var (values, indices) = logProbs.topk(k, dim: -1);                                   // (B, T, k)
        var v = values.contiguous().data<float>().ToArray();
        var x = indices.to(ScalarType.Int32).contiguous().data<int>().ToArray();
        var tail = new float[sequences.Count * length];
        Parallel.For(0, sequences.Count, b =>
        {
            for (var t = 0; t < lengths[b]; t++)
            {
                var at = (b * length + t) * k;
                var kept = 0.0;
                for (var c = 0; c < k; c++) kept += Math.Exp(v[at + c]);
                tail[b * length + t] = (float)Math.Max(0, 1 - kept);
            }
        });
        return new TeacherRecords(x, v, tail, length, k, lengths);
    }
}
