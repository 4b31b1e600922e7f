using MultiTeacher.Cache;
using MultiTeacher.Data;
using MultiTeacher.Models;
using MultiTeacher.Recipes;
using MultiTeacher.Tokenization;
using static TorchSharp.torch;

namespace MultiTeacher.Teachers;

/// <summary>A teacher's cache as ensured: the file (recorded in lineage as an input the run used) and whether it was reused.</summary>
public sealed record EnsuredCache(TeacherCache Cache, string Path, bool Reused);

/// <summary>Finds, verifies or builds teacher caches over a recipe's training samples.</summary>
public static class TeacherCaches
{
    /// <param name="teacherHash">The teacher directory's content hash (part of the cache key).</param>
    public static EnsuredCache Ensure(Teacher teacher, string teacherHash, IReadOnlyList<string> texts, int topK, string directory, TextWriter log)
    {
        var key = TeacherCache.KeyFor(teacherHash, teacher.Tokenizer.ContentHash, texts, topK);
        var path = Path.Combine(directory, $"{key[..32]}.mtcache");
        var cache = TeacherCache.TryOpen(path, key, out var problem);
        if (cache is not null)
        {
            log.WriteLine($"teacher {teacher.Name}: cache reused ({cache.SizeBytes / (double)cache.Positions:F1} bytes/token, {path})");
            return new EnsuredCache(cache, path, Reused: true);
        }
        if (problem != "missing") log.WriteLine($"teacher {teacher.Name}: cache at {path} not usable ({problem}); rebuilding");
        cache = Build(teacher.Model, teacher.Tokenizer, texts, topK, key, path);
        log.WriteLine($"teacher {teacher.Name}: cache built, {cache.Positions:N0} positions, {cache.SizeBytes / (double)cache.Positions:F1} bytes/token ({path})");
        return new EnsuredCache(cache, path, Reused: false);
    }

    /// <summary>
    /// Ensures the caches of a recipe's teachers (default: all) over its training samples, then
    /// unloads them: what `mt cache` and a run's cache jobs do ahead of training.
    /// </summary>
    public static IReadOnlyList<EnsuredCache> EnsureForRecipe(Recipe recipe, Device device, TeacherHashes hashes, string cacheRoot, TextWriter log,
        Func<TeacherSettings, bool>? only = null)
    {
        var student = HfTokenizer.FromDirectory(recipe.Student.TokenizerDirectory);
        var texts = TrainingSamples.ForRecipe(recipe.Data, student).Samples.Select(s => s.Text).ToList();
        using var teachers = TeacherSet.Load(recipe, student, device, hashes, cacheRoot, log, only);
        return Enumerable.Range(0, teachers.Count).Select(k => teachers.EnsureCache(k, texts)).ToList();
    }

    /// <summary>Runs the teacher over every text, <paramref name="batchSize"/> at a time, and writes the cache to <paramref name="path"/>.</summary>
    public static TeacherCache Build(CausalLM teacher, HfTokenizer tokenizer, IReadOnlyList<string> texts, int topK, string key, string path, int batchSize = 8)
    {
        var vocabulary = teacher.Config.VocabSize;
        var records = new QuantizedPosition[texts.Count][];
        for (var start = 0; start < texts.Count; start += batchSize)
        {
            var batch = texts.Skip(start).Take(batchSize).Select(t => tokenizer.EncodeToIds(t)).ToList();
            var computed = TeacherRecords.Compute(teacher, batch, topK);
            Parallel.For(0, batch.Count, b =>
            {
                var record = records[start + b] = new QuantizedPosition[batch[b].Length];
                for (var t = 0; t < record.Length; t++)
                    record[t] = TopKCodec.Quantize(computed.Ids(b, t), computed.LogProbs(b, t), computed.Tail(b, t), vocabulary);
            });
        }
        return TeacherCache.Write(records, key, topK, vocabulary, path);
    }
}
