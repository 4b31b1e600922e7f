using MultiTeacher.Cache;
using MultiTeacher.Models;
using MultiTeacher.Tokenization;
using static TorchSharp.torch;

namespace MultiTeacher.Teachers;

/// <summary>Builds a teacher's likelihood-matching cache: per position, its observed token's log-probability and its word-boundary mass.</summary>
public static class AlmCaches
{
    /// <summary>Runs the teacher over every text, <paramref name="batchSize"/> at a time, and writes the cache to <paramref name="path"/>.</summary>
    public static AlmCache Build(CausalLM teacher, HfTokenizer tokenizer, IReadOnlyList<string> texts, string key, string path, int batchSize = 8)
    {
        var records = new AlmPosition[texts.Count][];
        using var mask = tensor(BoundaryMask.For(tokenizer, teacher.Config.VocabSize));
        for (var start = 0; start < texts.Count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var batch = texts.Skip(start).Take(batchSize).Select(t => tokenizer.EncodeToIds(t)).ToList();
            var built = AlmRecords.FromLogProbs(TeacherForward.LogProbs(teacher, batch), batch, mask);
            for (var b = 0; b < built.Length; b++) records[start + b] = built[b];
        }
        return AlmCache.Write(records, key, path);
    }
}
