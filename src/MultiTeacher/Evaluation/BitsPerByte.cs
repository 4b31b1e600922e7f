using MultiTeacher.Models;
using MultiTeacher.Tokenization;
using static TorchSharp.torch;

namespace MultiTeacher.Evaluation;

/// <summary>Held-out bits per byte (tokenizer-independent) and per-token perplexity of one model.</summary>
public sealed record BitsPerByteResult(double BitsPerByte, long Bytes, long Tokens, double Perplexity);

/// <summary>
/// Bits per byte: total negative log-likelihood of every predicted token, in bits, over the UTF-8
/// bytes those tokens stand for in the text. Models with different vocabularies are compared on
/// the same bytes. Without a BOS the first token of each window has no context and is not scored.
/// </summary>
public static class BitsPerByte
{
    public static BitsPerByteResult Evaluate(CausalLM model, HfTokenizer tokenizer, IEnumerable<string> documents, int window, long maxBytes)
    {
        var device = model.parameters().First().device;
        double nats = 0;
        long bytes = 0, tokens = 0;
        using var noGrad = no_grad();
        foreach (var doc in documents)
        {
            var e = tokenizer.Encode(doc);
            for (var start = 0; start + 1 < e.Count && bytes < maxBytes; start += window)
            {
                var end = Math.Min(e.Count, start + window + 1);
                using var scope = NewDisposeScope();
                var ids = tensor(e.Ids[start..end].Select(i => (long)i).ToArray(), device: device).unsqueeze(0);   // (1, n)
                var logProbs = nn.functional.log_softmax(model.forward(ids[.., ..^1]).to(float32), -1);           // (1, n-1, V)
                var nll = -logProbs.gather(2, ids[.., 1..].unsqueeze(-1)).squeeze(-1);                          // (1, n-1)
                nats += nll.sum().item<float>();
                tokens += end - start - 1;
                for (var i = start + 1; i < end; i++) bytes += e.ByteOffsets[i].End - e.ByteOffsets[i].Start;
            }
            if (bytes >= maxBytes) break;
        }
        if (bytes == 0) throw new InvalidDataException("no evaluation text: nothing to score");
        return new BitsPerByteResult(nats / Math.Log(2) / bytes, bytes, tokens, Math.Exp(nats / tokens));
    }
}
