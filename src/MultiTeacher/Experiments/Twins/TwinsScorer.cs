using MultiTeacher.Corpora;
using MultiTeacher.Evaluation;
using MultiTeacher.Models;
using MultiTeacher.Teachers;
using MultiTeacher.Tokenization;

namespace MultiTeacher.Experiments.Twins;

/// <summary>
/// Bits per byte of the experiment's models per document (each document scored whole in windows
/// of 64 tokens, as the first experiment does), and a teacher's top-64 mass on text.
/// </summary>
public sealed class TwinsScorer(IReadOnlyList<GenreSplit> splits)
{
    public const int Window = 64, TopK = 64;

    /// <summary>Bits per byte over every validation document of every genre (bits over bytes, so longer documents weigh more).</summary>
    public double Validation(string modelDirectory)
    {
        using var model = PretrainedModel.Load(modelDirectory);
        var tokenizer = HfTokenizer.FromDirectory(modelDirectory);
        var scores = BitsPerByte.PerDocument(model, tokenizer, splits.SelectMany(s => s.Validation).Select(d => d.Text), Window);
        return scores.Sum(s => s.BitsPerByte * s.Bytes) / scores.Sum(s => s.Bytes);
    }

    /// <summary>Per model name, its bits per byte as [seed][test document], documents genre by genre in split order.</summary>
    public IReadOnlyDictionary<string, double[][]> Test(IReadOnlyList<TwinsModel> models)
    {
        var documents = splits.SelectMany(s => s.Test).Select(d => d.Text).ToList();
        return models.GroupBy(m => m.Name).ToDictionary(g => g.Key, g => g.OrderBy(m => m.Seed).Select(m =>
        {
            using var model = PretrainedModel.Load(m.Directory);
            var tokenizer = HfTokenizer.FromDirectory(m.Directory);
            return BitsPerByte.PerDocument(model, tokenizer, documents, Window).Select(s => s.BitsPerByte).ToArray();
        }).ToArray());
    }

    /// <summary>Mean over every predicted position of the documents of the probability held by the model's 64 most likely tokens.</summary>
    public double TopMass(string modelDirectory, IReadOnlyList<BrownDocument> documents)
    {
        using var model = PretrainedModel.Load(modelDirectory);
        var tokenizer = HfTokenizer.FromDirectory(modelDirectory);
        var windows = documents.SelectMany(d => tokenizer.Encode(d.Text).Ids.Chunk(Window)).Where(w => w.Length > 1).ToList();
        var records = TeacherRecords.Compute(model, windows, TopK);
        double kept = 0;
        long positions = 0;
        for (var w = 0; w < windows.Count; w++)
            for (var p = 0; p < windows[w].Length; p++, positions++) kept += 1 - records.Tail(w, p);
        return kept / positions;
    }
}
