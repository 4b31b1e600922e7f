using MultiTeacher.Cache;
using MultiTeacher.Models;
using MultiTeacher.Tokenization;
using static TorchSharp.torch;

namespace MultiTeacher.Teachers;

/// <summary>Builds a teacher's likelihood-matching cache: per position, its observed token's log-probability and its word-boundary mass.</summary>
public static class AlmCaches
{
    /// <summary>Runs the teacher over every text, <paramref name="batchSize"/> at a time, and writes the cache to <paramref name="path"/>.</summary>
    public static AlmCache Build(CausalLM teacher, HfTokenizer tokenizer, IReadOnlyList<string> texts, string key, string path, int batchSize = 8,
        int chunkTokens = TeacherForward.DefaultChunkTokens)
    {
        var records = new AlmPosition[texts.Count][];
        using var mask = tensor(BoundaryMask.For(tokenizer, teacher.Config.VocabSize));
        for (var start = 0; start < texts.Count; start += batchSize)
        {
            var batch = texts.Skip(start).Take(batchSize).Select(t => tokenizer.EncodeToIds(t)).ToList();
            var built = Records(teacher, batch, mask, chunkTokens);
            for (var b = 0; b < built.Length; b++) records[start + b] = built[b];
        }
        return AlmCache.Write(records, key, path);
    }

    /// <summary>
    /// The teacher's records of each sequence (see <see cref="AlmRecords"/>), its logits reduced
    /// <paramref name="chunkTokens"/> positions at a time; <paramref name="boundaryMask"/> (V) bool.
    /// </summary>
    public static AlmPosition[][] Records(CausalLM teacher, IReadOnlyList<int[]> ids, Tensor boundaryMask, int chunkTokens = TeacherForward.DefaultChunkTokens)
    {
        var length = ids.Select(s => s.Length).DefaultIfEmpty(0).Max();
        var next = AlmRecords.NextTokens(ids, length);
        var (observed, boundary) = (new float[next.Length], new float[next.Length]);
        TeacherForward.Chunks(teacher, ids, chunkTokens, (flat, logProbs) =>
        {
            var (o, m) = AlmRecords.Reduce(logProbs, flat.Select(p => next[p]).ToArray(), boundaryMask);
            for (var r = 0; r < flat.Length; r++) (observed[flat[r]], boundary[flat[r]]) = (o[r], m[r]);
        });
        return AlmRecords.Assemble(observed, boundary, ids, length);
    }
}
