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
    public static BitsPerByteResult Evaluate(CausalLM model, HfTokenizer tokenizer, IEnumerable<string> documents, int window, long maxBytes) =>
        Evaluate(model, doc => tokenizer.Encode(doc), documents, window, maxBytes);

    /// <summary>As <see cref="Evaluate(CausalLM, HfTokenizer, IEnumerable{string}, int, long)"/>, each document encoded by <paramref name="encode"/> (ids in the model's vocabulary with byte spans).</summary>
    public static BitsPerByteResult Evaluate(CausalLM model, Func<string, TokenEncoding> encode, IEnumerable<string> documents, int window, long maxBytes)
    {
        double nats = 0;
        long bytes = 0, tokens = 0;
        foreach (var doc in documents)
        {
            var s = Score(model, encode(doc), window, maxBytes - bytes);
            (nats, bytes, tokens) = (nats + s.Nats, bytes + s.Bytes, tokens + s.Tokens);
            if (bytes >= maxBytes) break;
        }
        if (bytes == 0) throw new InvalidDataException("no evaluation text: nothing to score");
        return new BitsPerByteResult(nats / Math.Log(2) / bytes, bytes, tokens, Math.Exp(nats / tokens));
    }

    /// <summary>Each document scored on its own (all of it): the per-document figures that confidence intervals need.</summary>
    public static IReadOnlyList<BitsPerByteResult> PerDocument(CausalLM model, HfTokenizer tokenizer, IEnumerable<string> documents, int window) =>
        documents.Select(doc =>
        {
            var s = Score(model, tokenizer.Encode(doc), window, long.MaxValue);
            if (s.Bytes == 0) throw new InvalidDataException("a document too short to score");
            return new BitsPerByteResult(s.Nats / Math.Log(2) / s.Bytes, s.Bytes, s.Tokens, Math.Exp(s.Nats / s.Tokens));
        }).ToList();

    /// <summary>
    /// Negative log-likelihood in nats of one document's tokens, window by window, until
    /// <paramref name="maxBytes"/> are scored. Windows run in batches whose logits stay under 32 MB:
    /// glibc serves larger blocks on non-main threads by mmap, paying page faults on every batch.
    /// The last window is padded at its end, which a causal model never sees from the positions before.
    /// </summary>
    private static (double Nats, long Bytes, long Tokens) Score(CausalLM model, TokenEncoding e, int window, long maxBytes)
    {
        var batch = (int)Math.Clamp(32_000_000L / ((long)window * model.Config.VocabSize * sizeof(float)), 1, 16);
        var device = model.parameters().First().device;
        var windows = new List<(int Start, int End)>();
        long bytes = 0, tokens = 0;
        for (var start = 0; start + 1 < e.Count && bytes < maxBytes; start += window)
        {
            var end = Math.Min(e.Count, start + window + 1);
            windows.Add((start, end));
            tokens += end - start - 1;
            for (var i = start + 1; i < end; i++) bytes += e.ByteOffsets[i].End - e.ByteOffsets[i].Start;
        }
        double nats = 0;
        using var noGrad = no_grad();
        for (var first = 0; first < windows.Count; first += batch)
        {
            using var scope = NewDisposeScope();
            var group = windows.Skip(first).Take(batch).ToList();
            var ids = zeros(group.Count, window + 1, dtype: ScalarType.Int64);                              // (B, W+1), padded with id 0
            var mask = zeros(group.Count, window);                                                          // (B, W): 1 where a token is predicted
            for (var b = 0; b < group.Count; b++)
            {
                var (start, end) = group[b];
                ids[b, ..(end - start)] = tensor(e.Ids[start..end].Select(i => (long)i).ToArray());
                mask[b, ..(end - start - 1)] = 1;
            }
            ids = ids.to(device);
            var logProbs = nn.functional.log_softmax(model.forward(ids[.., ..^1]).to(float32), -1);           // (B, W, V)
            var nll = -logProbs.gather(2, ids[.., 1..].unsqueeze(-1)).squeeze(-1);                          // (B, W)
            nats += (nll * mask.to(device)).to(float64).sum().item<double>();
        }
        return (nats, bytes, tokens);
    }
}
