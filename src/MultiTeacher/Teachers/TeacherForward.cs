using MultiTeacher.Models;
using static TorchSharp.torch;

namespace MultiTeacher.Teachers;

/// <summary>A teacher's next-token log-probabilities for a batch of token sequences: the one forward pass behind every teacher record.</summary>
public static class TeacherForward
{
    /// <summary>
    /// (B, T, V) float32 log-probabilities on the CPU, in the caller's dispose scope. The sequences
    /// are padded at the end into one batch (a causal model's earlier positions do not see the
    /// padding) and run without gradients.
    /// </summary>
    public static Tensor LogProbs(CausalLM teacher, IReadOnlyList<int[]> sequences)
    {
        using var scope = NewDisposeScope();
        var length = sequences.Select(s => s.Length).DefaultIfEmpty(0).Max();
        var ids = zeros(sequences.Count, length, dtype: ScalarType.Int64);                 // (B, T)
        for (var b = 0; b < sequences.Count; b++)
            if (sequences[b].Length > 0) ids[b, ..sequences[b].Length] = tensor(sequences[b].Select(i => (long)i).ToArray());
        using var noGrad = no_grad();
        var logits = teacher.forward(ids.to(teacher.parameters().First().device));          // (B, T, V)
        return nn.functional.log_softmax(logits.to(float32).cpu(), -1).MoveToOuterDisposeScope();
    }
}
