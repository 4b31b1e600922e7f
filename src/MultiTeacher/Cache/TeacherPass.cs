using MultiTeacher.Models;
using MultiTeacher.Tokenization;
using static TorchSharp.torch;

namespace MultiTeacher.Cache;

/// <summary>Runs a teacher over texts in right-padded batches and hands each batch's log-softmax to a consumer.</summary>
internal static class TeacherPass
{
    /// <param name="consume">Gets the index of the batch's first text, the batch's token ids and its (B, T, V) float32 log-probabilities on the CPU, valid only during the call.</param>
    public static void Run(CausalLM teacher, HfTokenizer tokenizer, IReadOnlyList<string> texts, int batchSize, Action<int, IReadOnlyList<int[]>, Tensor> consume)
    {
        var device = teacher.parameters().First().device;
        for (var start = 0; start < texts.Count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var batch = texts.Skip(start).Take(batchSize).Select(t => tokenizer.EncodeToIds(t)).ToList();
            var length = batch.Max(b => b.Length);
            var ids = zeros(batch.Count, length, dtype: ScalarType.Int64);
            for (var b = 0; b < batch.Count; b++) ids[b, ..batch[b].Length] = tensor(batch[b].Select(i => (long)i).ToArray());
            Tensor logProbs;
            using (no_grad()) logProbs = nn.functional.log_softmax(teacher.forward(ids.to(device)).to(float32).cpu(), -1);   // (B, T, V)
            consume(start, batch, logProbs);
        }
    }
}
