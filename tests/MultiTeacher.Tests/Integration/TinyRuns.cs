using System.Text.Json;
using MultiTeacher.Corpora;

namespace MultiTeacher.Tests.Integration;

/// <summary>Builds tiny, fast recipes on real tokenizers and real Brown text, in a temporary directory.</summary>
public sealed class TinyRuns(string root)
{
    public static readonly (string Name, string ModelType, string Tokenizer, int Vocab)[] Teachers =
    [
        ("llama", "llama", "llama3", 128256), ("mistral", "mistral", "mistral-7b-v0.1", 32000), ("qwen", "qwen3", "qwen3", 151936),
    ];

    public string Root { get; } = root;

    public void WriteData(int trainDocuments = 4, int trainChars = 6000)
    {
        var docs = BrownCorpus.Read(TestAssets.Store.Require("corpora/brown"), "a").ToList();
        File.WriteAllText(Path.Combine(Root, "train.txt"), string.Join("\n\n", docs.Take(trainDocuments).Select(d => d.Text[..Math.Min(trainChars, d.Text.Length)])));
        File.WriteAllText(Path.Combine(Root, "eval.txt"), docs[^1].Text[..3000]);
    }

    public string WriteConfig(string name, string modelType, int vocab)
    {
        var path = Path.Combine(Root, $"{name}-config.json");
        File.WriteAllText(path, JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["model_type"] = modelType, ["vocab_size"] = vocab, ["hidden_size"] = 32, ["intermediate_size"] = 64, ["num_hidden_layers"] = 1,
            ["num_attention_heads"] = 4, ["num_key_value_heads"] = 2, ["rms_norm_eps"] = 1e-6, ["rope_theta"] = 10000.0,
            ["tie_word_embeddings"] = modelType != "mistral", ["max_position_embeddings"] = 512,
        }));
        return path;
    }

    /// <summary>A teacher directory: a fresh random tiny model of the family, with the real tokenizer files.</summary>
    public string WriteTeacher(string name, string modelType, string tokenizer, int vocab, long seed)
    {
        var dir = Path.Combine(Root, "teachers", name);
        using var model = new MultiTeacher.Models.CausalLM(MultiTeacher.Models.ModelConfig.FromFile(WriteConfig(name, modelType, vocab)));
        model.InitializeWeights(new TorchSharp.torch.Generator((ulong)seed));
        MultiTeacher.Models.PretrainedModel.Save(model, dir, TestAssets.TokenizerDir(tokenizer));
        return dir;
    }

    public string WriteRecipe(string name, string body)
    {
        var path = Path.Combine(Root, $"{name}.yaml");
        File.WriteAllText(path, $"# mt run {name}.yaml\nname: {name}\n{body}\noutput: out/{name}\n");
        return path;
    }

    public string Output(string name) => Path.Combine(Root, "out", name);

    public IReadOnlyList<JsonElement> Metrics(string name) =>
        File.ReadAllLines(Path.Combine(Output(name), "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
}
