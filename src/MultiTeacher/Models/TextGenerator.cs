using static TorchSharp.torch;

namespace MultiTeacher.Models;

/// <summary>Autoregressive decoding with a KV cache: greedy at temperature 0, else sampling (top-k, top-p).</summary>
public static class TextGenerator
{
    public static int[] Generate(CausalLM model, int[] prompt, int maxNewTokens, double temperature = 0, long seed = 0, int? stopToken = null) =>
        Generate(model, prompt, maxNewTokens, new Sampling(temperature, Seed: seed), stopToken);

    public static int[] Generate(CausalLM model, int[] prompt, int maxNewTokens, Sampling sampling, int? stopToken = null)
    {
        if (prompt.Length == 0) throw new ArgumentException("the prompt encodes to no tokens", nameof(prompt));
        var device = model.parameters().First().device;
        using var generator = new Generator((ulong)sampling.Seed, device);
        using var cache = new KvCache(model.Config.NumHiddenLayers);
        using var noGrad = no_grad();
        var output = new List<int>();
        var next = prompt.Select(i => (long)i).ToArray();
        for (var step = 0; step < maxNewTokens; step++)
        {
            using var scope = NewDisposeScope();
            var ids = tensor(next, device: device).unsqueeze(0);                       // (1, T)
            var logits = model.Forward(ids, cache, lastPositionOnly: true)[0, -1].to(float32);   // (V)
            var token = sampling.Temperature <= 0
                ? (int)logits.argmax().item<long>()
                : (int)multinomial(softmax(Sampling.Filter(logits / sampling.Temperature, sampling.TopK, sampling.TopP), 0), 1, generator: generator).item<long>();
            output.Add(token);
            if (token == stopToken) break;
            next = [token];
        }
        return [.. output];
    }
}
