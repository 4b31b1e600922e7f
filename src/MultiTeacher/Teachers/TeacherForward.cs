using MultiTeacher.Models;
using static TorchSharp.torch;

namespace MultiTeacher.Teachers;

/// <summary>A teacher's next-token log-probabilities for a batch of token sequences: the one forward pass behind every teacher record.</summary>
public static class TeacherForward
{
    /// <summary>
    /// Positions whose logits are alive at once by default: 512 × a 152k vocabulary is 311 MB of
    /// float32, where a whole batch of 8 × 2,048 would be 10 GB.
    /// </summary>
    public const int DefaultChunkTokens = 512;

    /// <summary>
    /// (B, T, V) float32 log-probabilities on the teacher's device, in the caller's dispose scope:
    /// every probability of the batch at once, for callers that need them all. Records need only a
    /// few numbers per position and go through <see cref="Chunks"/>.
    /// </summary>
    public static Tensor LogProbs(CausalLM teacher, IReadOnlyList<int[]> sequences)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var hidden = teacher.Hidden(Ids(sequences, teacher.parameters().First().device));    // (B, T, C)
        return nn.functional.log_softmax(teacher.Head(hidden).to(float32), -1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Runs the body once over the right-padded batch (a causal model's earlier positions do not see
    /// the padding), then the head and log-softmax over at most <paramref name="chunkTokens"/> real
    /// positions at a time, so (B, T, V) logits never exist together. <paramref name="reduce"/>
    /// receives each chunk's flat positions b·T + t (T the longest sequence, ascending) and their
    /// (n, V) float32 log-probabilities on the teacher's device, valid only during the call.
    /// </summary>
    public static void Chunks(CausalLM teacher, IReadOnlyList<int[]> sequences, int chunkTokens, Action<long[], Tensor> reduce)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkTokens, 1);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var device = teacher.parameters().First().device;
        var length = sequences.Select(s => s.Length).DefaultIfEmpty(0).Max();
        var flat = sequences.SelectMany((s, b) => Enumerable.Range(0, s.Length).Select(t => (long)b * length + t)).ToArray();
        if (flat.Length == 0) return;
        var hidden = teacher.Hidden(Ids(sequences, device));                                 // (B, T, C)
        var rows = hidden.view(-1, hidden.shape[^1]).index_select(0, tensor(flat, device: device));   // (P, C), padding dropped
        for (var start = 0; start < flat.Length; start += chunkTokens)
        {
            using var chunkScope = NewDisposeScope();
            var n = Math.Min(chunkTokens, flat.Length - start);
            var logProbs = nn.functional.log_softmax(teacher.Head(rows.narrow(0, start, n)).to(float32), -1);   // (n, V)
            reduce(flat[start..(start + n)], logProbs);
        }
    }

    private static Tensor Ids(IReadOnlyList<int[]> sequences, Device device)
    {
        var length = sequences.Select(s => s.Length).DefaultIfEmpty(0).Max();
        var ids = new long[sequences.Count * length];
        for (var b = 0; b < sequences.Count; b++)
            for (var t = 0; t < sequences[b].Length; t++) ids[b * length + t] = sequences[b][t];
        return tensor(ids, device: device).view(sequences.Count, length);                    // (B, T)
    }
}
