using System.Text.Json.Nodes;
using MultiTeacher.Checkpoints;
using MultiTeacher.Models;
using MultiTeacher.Tokenization;

namespace MultiTeacher.Merging;

/// <summary>One input model: its directory, config and memory-mapped checkpoint.</summary>
public sealed record SourceModel(string Directory, ModelConfig Config, Checkpoint Checkpoint);

/// <summary>
/// The models a configuration names, opened (checkpoints memory-mapped, nothing read yet) and
/// checked to be mergeable: one architecture and one vocabulary.
/// </summary>
public sealed class MergeSources : IDisposable
{
    private readonly Dictionary<string, SourceModel> _models = new(StringComparer.Ordinal);

    public SourceModel this[string directory] => _models[directory];

    public MergeSources(IEnumerable<string> directories)
    {
        try
        {
            foreach (var dir in directories)
                _models[dir] = new SourceModel(dir, ModelConfig.FromPretrained(dir), new Checkpoint(dir));
            CheckArchitectures();
            CheckVocabularies();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    private void CheckArchitectures()
    {
        var first = _models.Values.First();
        foreach (var other in _models.Values.Skip(1))
            if (other.Config.ModelType != first.Config.ModelType)
                throw new MergeException($"different architectures: '{first.Directory}' is {first.Config.ModelType}, '{other.Directory}' is {other.Config.ModelType}");
    }

    /// <summary>
    /// Embedding rows must agree, and tokenizers where the models have them: weight-space merging
    /// adds rows by id, which only means something when every id is the same token in every model.
    /// </summary>
    private void CheckVocabularies()
    {
        var first = _models.Values.First();
        foreach (var other in _models.Values.Skip(1))
        {
            var (a, b) = (EmbeddingRows(first), EmbeddingRows(other));
            if (a != b) throw VocabularyMismatch(first.Directory, other.Directory, $"{a} vs {b} embedding rows");
        }
        var withTokenizer = _models.Values.Where(m => File.Exists(Path.Combine(m.Directory, "tokenizer.json"))).ToList();
        for (var i = 1; i < withTokenizer.Count; i++)
            if (!SameVocabulary(withTokenizer[0].Directory, withTokenizer[i].Directory))
                throw VocabularyMismatch(withTokenizer[0].Directory, withTokenizer[i].Directory, "their tokenizers map ids to different tokens");
    }

    public static MergeException VocabularyMismatch(string a, string b, string why) =>
        new($"'{a}' and '{b}' have different vocabularies ({why}): give them one vocabulary first with `mt transplant --model {b} --tokenizer {a} --out DIR` and merge that");

    private static long EmbeddingRows(SourceModel m) =>
        m.Checkpoint.Contains("model.embed_tokens.weight") ? m.Checkpoint.Entry("model.embed_tokens.weight").Shape[0] : m.Config.VocabSize;

    /// <summary>Tokenizer files that differ are compared token by token (bytes and special flags per id).</summary>
    public static bool SameVocabulary(string a, string b)
    {
        if (File.ReadAllBytes(Path.Combine(a, "tokenizer.json")).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(b, "tokenizer.json")))) return true;
        var (ta, tb) = (HfTokenizer.FromDirectory(a), HfTokenizer.FromDirectory(b));
        if (ta.VocabSize != tb.VocabSize) return false;
        for (var id = 0; id < ta.VocabSize; id++)
            if (ta.IsSpecial(id) != tb.IsSpecial(id) || !ta.TokenBytes(id).SequenceEqual(tb.TokenBytes(id))) return false;
        return true;
    }

    /// <summary>The model's config.json as a JSON tree, every field kept (ModelConfig keeps only the fields we use).</summary>
    public static JsonObject RawConfig(string directory) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(directory, "config.json")))?.AsObject() ?? throw new MergeException($"{directory}/config.json: empty");

    public void Dispose()
    {
        foreach (var m in _models.Values) m.Checkpoint.Dispose();
        _models.Clear();
    }
}
