using MultiTeacher.Cache;
using MultiTeacher.Data;
using MultiTeacher.Recipes;

namespace MultiTeacher.Training;

/// <summary>Finds, verifies or builds the cache of one teacher over a recipe's training samples.</summary>
public static class TeacherCaches
{
    /// <param name="path">The cache file (recorded in lineage as an input the run used).</param>
    public static TeacherCache Open(Teacher teacher, string teacherDirectory, TrainingSamples samples, int topK, string directory, TextWriter log, out string path)
    {
        var texts = samples.Samples.Select(s => s.Text).ToList();
        var key = TeacherCache.KeyFor(ContentHash.Of(teacherDirectory), teacher.Tokenizer.ContentHash, texts, topK);
        path = Path.Combine(directory, $"{key[..32]}.mtcache");
        var cache = TeacherCache.TryOpen(path, key, out var problem);
        if (cache is not null)
        {
            log.WriteLine($"teacher {teacher.Name}: cache reused ({cache.SizeBytes / (double)cache.Positions:F1} bytes/token, {path})");
            return cache;
        }
        if (problem != "missing") log.WriteLine($"teacher {teacher.Name}: cache at {path} not usable ({problem}); rebuilding");
        cache = TeacherCache.Build(teacher.Model, teacher.Tokenizer, texts, topK, key, path);
        log.WriteLine($"teacher {teacher.Name}: cache built, {cache.Positions:N0} positions, {cache.SizeBytes / (double)cache.Positions:F1} bytes/token ({path})");
        return cache;
    }
}
