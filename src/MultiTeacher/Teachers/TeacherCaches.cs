using MultiTeacher.Cache;
using MultiTeacher.Data;
using MultiTeacher.Models;
using MultiTeacher.Recipes;
using MultiTeacher.Tokenization;
using static TorchSharp.torch;

namespace MultiTeacher.Teachers;

/// <summary>A teacher's cache as ensured: the file (recorded in lineage as an input the run used) and whether it was reused.</summary>
public sealed record EnsuredCache(TeacherCache Cache, string Path, bool Reused);

/// <summary>A teacher's likelihood-matching cache as ensured: the file and whether it was reused.</summary>
public sealed record EnsuredAlmCache(AlmCache Cache, string Path, bool Reused);

/// <summary>Finds, verifies or builds teacher caches over a recipe's training samples.</summary>
public static class TeacherCaches
{
    /// <param name="teacherHash">The teacher directory's content hash (part of the cache key).</param>
    public static EnsuredCache Ensure(Teacher teacher, string teacherHash, IReadOnlyList<string> texts, int topK, string directory, TextWriter log)
    {
        var key = TeacherCache.KeyFor(teacherHash, teacher.Tokenizer.ContentHash, texts, topK);
        var path = Path.Combine(directory, $"{key[..32]}.mtcache");
        var (cache, reused) = OpenOrBuild(teacher.Name, "cache", path, () => TeacherCache.TryOpen(path, key, out var problem) is { } c ? (c, problem) : (null, problem),
            () => Build(teacher.Model, teacher.Tokenizer, texts, topK, key, path), c => (c.Positions, c.SizeBytes), log);
        return new EnsuredCache(cache, path, reused);
    }

    /// <summary>The teacher's likelihood-matching cache over <paramref name="texts"/> (observed-token log-probabilities and boundary masses), built if missing or unusable.</summary>
    public static EnsuredAlmCache EnsureAlm(Teacher teacher, string teacherHash, IReadOnlyList<string> texts, string directory, TextWriter log)
    {
        var key = AlmCache.KeyFor(teacherHash, teacher.Tokenizer.ContentHash, texts);
        var path = Path.Combine(directory, $"{key[..32]}.mtalm");
        var (cache, reused) = OpenOrBuild(teacher.Name, "alm cache", path, () => AlmCache.TryOpen(path, key, out var problem) is { } c ? (c, problem) : (null, problem),
            () => AlmCaches.Build(teacher.Model, teacher.Tokenizer, texts, key, path), c => (c.Positions, c.SizeBytes), log);
        return new EnsuredAlmCache(cache, path, reused);
    }

    private static (T Cache, bool Reused) OpenOrBuild<T>(string teacher, string what, string path, Func<(T?, string?)> open, Func<T> build,
        Func<T, (long Positions, long Bytes)> size, TextWriter log) where T : class
    {
        var (cache, problem) = open();
        if (cache is not null)
        {
            var (positions, bytes) = size(cache);
            log.WriteLine($"teacher {teacher}: {what} reused ({bytes / (double)positions:F1} bytes/token, {path})");
            return (cache, true);
        }
        if (problem != "missing") log.WriteLine($"teacher {teacher}: {what} at {path} not usable ({problem}); rebuilding");
        cache = build();
        var (n, b) = size(cache);
        log.WriteLine($"teacher {teacher}: {what} built, {n:N0} positions, {b / (double)n:F1} bytes/token ({path})");
        return (cache, false);
    }

    /// <summary>
    /// Ensures the caches a recipe's teachers (default: all) need over its training samples (top-k
    /// records, or likelihood-matching records for alm), every shard or only shard <paramref name="shard"/>,
    /// then unloads them: what `mt cache` and a run's cache jobs do ahead of training. Returns the cache files.
    /// </summary>
    /// <param name="clock">Times the samples, teacher and cache phases.</param>
    /// <param name="warm">The worker's loaded teachers and samples, reused across jobs; <paramref name="dataHash"/> (the verified hash of the training data) keys the samples.</param>
    public static IReadOnlyList<string> EnsureForRecipe(Recipe recipe, Device device, TeacherHashes hashes, string cacheRoot, TextWriter log,
        Func<TeacherSettings, bool>? only = null, int? shard = null, PhaseClock? clock = null, WarmTeachers? warm = null, string? dataHash = null)
    {
        clock ??= new PhaseClock();
        var (student, slices) = clock.Time(CachePhase.Samples, () =>
        {
            var student = warm?.Tokenizer(recipe.Student.TokenizerDirectory) ?? HfTokenizer.FromDirectory(recipe.Student.TokenizerDirectory);
            return (student, Slices(recipe, student, cacheRoot, log, shard, warm, dataHash));
        });
        using var teachers = clock.Time(CachePhase.Teacher, () => TeacherSet.Load(recipe, student, device, hashes, cacheRoot, log, only, warm));
        return clock.Time(CachePhase.Cache, () =>
            (IReadOnlyList<string>)[.. Enumerable.Range(0, teachers.Count).SelectMany(k => slices.Select(s => teachers.EnsureShard(k, s.Texts, recipe.Loss.Kind, s.Index, s.Count)))]);
    }

    /// <summary>
    /// The texts of each shard to ensure (every shard, or only <paramref name="shard"/>) with its number and the
    /// shard count. One shard's texts come from the file its submission wrote when that file is sound
    /// (<see cref="ShardTexts"/>), so a worker need not tokenize the whole training data for it.
    /// </summary>
    private static IReadOnlyList<(IReadOnlyList<string> Texts, int Index, int Count)> Slices(Recipe recipe, HfTokenizer student, string cacheRoot, TextWriter log,
        int? shard, WarmTeachers? warm, string? dataHash)
    {
        if (shard is { } wanted && dataHash is not null)
        {
            var key = ShardTexts.KeyFor(dataHash, student.ContentHash, recipe.Data, recipe.Train.CacheShardTokens, wanted);
            if (ShardTexts.TryRead(cacheRoot, key, out var problem) is { } read)
            {
                log.WriteLine($"samples: shard {wanted}'s {read.Texts.Count} texts from {ShardTexts.PathFor(cacheRoot, key)}");
                return [(read.Texts, wanted, read.Shards)];
            }
            log.WriteLine($"samples: shard {wanted}'s texts {(problem == "missing" ? "were not written" : $"not usable ({problem})")}; tokenizing the training data");
        }
        var samples = warm is not null && dataHash is not null ? warm.Samples(recipe.Data, dataHash, student) : TrainingSamples.ForRecipe(recipe.Data, student);
        var texts = samples.Samples.Select(s => s.Text).ToList();
        var plan = ShardsOf(recipe, samples);
        IReadOnlyList<CacheShard> shards = shard is { } one ? [plan[one]] : plan.Shards;
        return [.. shards.Select(s => ((IReadOnlyList<string>)(plan.Count == 1 ? texts : CacheShardPlan.Slice(texts, s)), s.Index, plan.Count))];
    }

    /// <summary>How the recipe's teacher caches are cut (train.cache_shard_tokens) over its training samples.</summary>
    public static CacheShardPlan ShardsOf(Recipe recipe, TrainingSamples samples) =>
        CacheShardPlan.For(samples.Samples.Select(s => s.StudentIds.Length).ToList(), recipe.Train.CacheShardTokens);

    /// <summary>The shards of the recipe's teacher caches, reading its training data with the student's tokenizer, as submission does.</summary>
    public static CacheShardPlan ShardsOf(Recipe recipe) =>
        ShardsOf(recipe, TrainingSamples.ForRecipe(recipe.Data, HfTokenizer.FromDirectory(recipe.Student.TokenizerDirectory)));

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
