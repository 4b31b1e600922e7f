using MultiTeacher.Data;
using MultiTeacher.Models;
using MultiTeacher.Tokenization;

namespace MultiTeacher.Evaluation;

/// <summary>Held-out bits per byte of one model directory on several named texts, and over all of them.</summary>
public static class HeldOutEvaluation
{
    /// <summary>Name of the all-texts figure: bits over the bytes of every text, so texts weigh by the bytes scored.</summary>
    public const string All = "all";

    /// <summary>Bits per byte per text name, plus <see cref="All"/>; each text scored on at most <paramref name="maxBytes"/> bytes.</summary>
    public static IReadOnlyDictionary<string, double> Score(string modelDirectory, IReadOnlyList<(string Name, string Path)> texts, int window, long maxBytes)
    {
        using var model = PretrainedModel.Load(modelDirectory);
        var tokenizer = HfTokenizer.FromDirectory(modelDirectory);
        var result = new Dictionary<string, double>();
        double bits = 0, bytes = 0;
        foreach (var (name, path) in texts)
        {
            var r = BitsPerByte.Evaluate(model, tokenizer, TextCorpus.Load(path), window, maxBytes);
            result[name] = r.BitsPerByte;
            (bits, bytes) = (bits + r.BitsPerByte * r.Bytes, bytes + r.Bytes);
        }
        result[All] = bits / bytes;
        return result;
    }
}
