using MultiTeacher.Alignment;
using MultiTeacher.Cache;
using MultiTeacher.Losses;
using MultiTeacher.Mixing;
using MultiTeacher.Models;
using MultiTeacher.Recipes;
using MultiTeacher.Tokenization;
using static TorchSharp.torch;

namespace MultiTeacher.Teachers;

/// <summary>
/// A recipe's teachers, loaded: each model and tokenizer, its projection into the student
/// vocabulary (cached on disk), the recipe's alignment settings and mixing policy; in cached mode,
/// each teacher's cache once ensured. Owns the models.
/// </summary>
public sealed class TeacherSet : IDisposable
{
    private readonly Teacher[] _teachers;
    private readonly TeacherHashes _hashes;
    private readonly string _cacheRoot;
    private readonly TextWriter _log;
    /// <summary>Where the models came from and go back to, instead of being disposed; null when the set owns them.</summary>
    private readonly WarmTeachers? _warm;
    /// <summary>Per teacher, the shards of its cache ensured so far (a TeacherCache or an AlmCache each).</summary>
    private readonly Dictionary<int, object?[]> _shards = [];

    public IReadOnlyList<Teacher> Teachers => _teachers;
    public int Count => _teachers.Length;
    /// <summary>Blends the teachers present at a position; null without teachers.</summary>
    public MixingPolicy? Mixing { get; }
    public int TopK { get; }
    public TailTreatment Tail { get; }
    public BoundaryTreatment Boundary { get; }

    private TeacherSet(Teacher[] teachers, MixingPolicy? mixing, AlignmentSettings alignment, TeacherHashes hashes, string cacheRoot, TextWriter log, WarmTeachers? warm)
        => (_teachers, Mixing, TopK, Tail, Boundary, _hashes, _cacheRoot, _log, _warm) = (teachers, mixing, alignment.TopK, alignment.Tail, alignment.Boundary, hashes, cacheRoot, log, warm);

    /// <param name="hashes">Teacher directory hashes already verified (a run's input check), so caches are keyed without hashing again.</param>
    /// <param name="cacheRoot">Where projections and teacher caches live.</param>
    /// <param name="only">The teachers to load (default: all), e.g. the one a cache job builds.</param>
    /// <param name="warm">The worker's loaded teachers: taken from there when loaded already, and given back on dispose.</param>
    public static TeacherSet Load(Recipe recipe, HfTokenizer student, Device device, TeacherHashes hashes, string cacheRoot, TextWriter log,
        Func<TeacherSettings, bool>? only = null, WarmTeachers? warm = null)
    {
        var specs = recipe.Teachers.Where(t => only?.Invoke(t) ?? true).ToList();
        var teachers = new List<Teacher>();
        try
        {
            foreach (var spec in specs) teachers.Add(warm is null ? LoadOne(spec, student, recipe.Alignment.Method, device, cacheRoot, log)
                : LendOne(warm, spec, hashes.Of(spec), student, recipe.Alignment.Method, device, cacheRoot, log));
        }
        catch
        {
            foreach (var t in teachers) Release(t, warm);
            throw;
        }
        // Loaded per set, not with the (possibly lent) model: the restriction is this recipe's.
        var positionTokenizers = new Dictionary<string, HfTokenizer>(StringComparer.Ordinal);
        for (var k = 0; k < teachers.Count; k++)
        {
            HfTokenizer? positions = null;
            if (specs[k].PositionsOf is { } dir && !positionTokenizers.TryGetValue(dir, out positions)) positionTokenizers[dir] = positions = HfTokenizer.FromDirectory(dir);
            teachers[k] = teachers[k] with { PositionsOf = positions };
        }
        var mixing = teachers.Count > 0 ? MixingPolicy.Create(recipe.Mixing, specs.Select(t => t.Weight).ToArray()) : null;
        return new TeacherSet([.. teachers], mixing, recipe.Alignment, hashes, cacheRoot, log, warm);
    }

    private static Teacher LendOne(WarmTeachers warm, TeacherSettings spec, string hash, HfTokenizer student, ProjectionMethod method, Device device, string cacheRoot, TextWriter log)
    {
        var (teacher, reused) = warm.Lend(hash, DTypeOf(spec), device, student, method, cacheRoot, () => LoadOne(spec, student, method, device, cacheRoot, log));
        if (reused) log.WriteLine($"teacher {spec.Name}: kept loaded from an earlier job ({teacher.Model.ParameterCount:N0} parameters)");
        return teacher with { Spec = spec };
    }

    private static void Release(Teacher teacher, WarmTeachers? warm)
    {
        if (warm is null) teacher.Model.Dispose();
        else warm.Return(teacher);
    }

    private static ScalarType DTypeOf(TeacherSettings spec) =>
        spec.DType switch { TeacherDType.Bfloat16 => ScalarType.BFloat16, TeacherDType.Float16 => ScalarType.Float16, _ => ScalarType.Float32 };

    private static Teacher LoadOne(TeacherSettings spec, HfTokenizer student, ProjectionMethod method, Device device, string cacheRoot, TextWriter log)
    {
        var tokenizer = HfTokenizer.FromDirectory(spec.Path);
        var model = PretrainedModel.Load(spec.Path, DTypeOf(spec), device);
        var (projection, built) = new ProjectionCache(Path.Combine(cacheRoot, "projections")).GetOrBuild(tokenizer, student, method);
        log.WriteLine($"teacher {spec.Name}: {model.Config.ModelType}, {model.ParameterCount:N0} parameters, projection {(built ? "built" : "cached")} ({projection.ExactCount:N0} exact tokens)");
        return new Teacher(spec, model, tokenizer, projection);
    }

    /// <summary>Opens teacher <paramref name="k"/>'s cache over <paramref name="texts"/>, building it if missing or unusable; the teacher reads from it from then on.</summary>
    public EnsuredCache EnsureCache(int k, IReadOnlyList<string> texts)
    {
        var teacher = _teachers[k];
        var ensured = TeacherCaches.Ensure(teacher, _hashes.Of(teacher.Spec), texts, TopK, Path.Combine(_cacheRoot, "teachers"), _log);
        _teachers[k] = teacher with { Cache = ensured.Cache };
        return ensured;
    }

    /// <summary>Opens or builds teacher <paramref name="k"/>'s likelihood-matching cache over <paramref name="texts"/>; the teacher reads its ALM records from it from then on.</summary>
    public EnsuredAlmCache EnsureAlmCache(int k, IReadOnlyList<string> texts)
    {
        var teacher = _teachers[k];
        var ensured = TeacherCaches.EnsureAlm(teacher, _hashes.Of(teacher.Spec), texts, Path.Combine(_cacheRoot, "teachers"), _log);
        _teachers[k] = teacher with { Alm = ensured.Cache };
        return ensured;
    }

    /// <summary>The cache the objective reads (likelihood-matching records for alm, top-k records otherwise), ensured; its file.</summary>
    public string EnsureCacheFor(int k, IReadOnlyList<string> texts, LossKind kind) =>
        kind == LossKind.Alm ? EnsureAlmCache(k, texts).Path : EnsureCache(k, texts).Path;

    /// <summary>
    /// One shard of the cache the objective reads, over that shard's texts, ensured; its file. Once
    /// every shard of <paramref name="plan"/> is, the teacher reads them as one cache.
    /// </summary>
    public string EnsureCacheFor(int k, IReadOnlyList<string> texts, LossKind kind, CacheShardPlan plan, CacheShard shard) =>
        plan.Count == 1 ? EnsureCacheFor(k, texts, kind) : EnsureShard(k, CacheShardPlan.Slice(texts, shard), kind, shard.Index, plan.Count);

    /// <summary>Shard <paramref name="index"/> of <paramref name="count"/> of the cache, over that shard's texts alone (<see cref="EnsureCacheFor(int, IReadOnlyList{string}, LossKind, CacheShardPlan, CacheShard)"/>).</summary>
    public string EnsureShard(int k, IReadOnlyList<string> slice, LossKind kind, int index, int count)
    {
        if (count == 1) return EnsureCacheFor(k, slice, kind);
        var teacher = _teachers[k];
        var (hash, directory) = (_hashes.Of(teacher.Spec), Path.Combine(_cacheRoot, "teachers"));
        if (!_shards.TryGetValue(k, out var parts) || parts.Length != count) _shards[k] = parts = new object?[count];
        string path;
        if (kind == LossKind.Alm)
        {
            var alm = TeacherCaches.EnsureAlm(teacher, hash, slice, directory, _log);
            (parts[index], path) = (alm.Cache, alm.Path);
        }
        else
        {
            var cache = TeacherCaches.Ensure(teacher, hash, slice, TopK, directory, _log);
            (parts[index], path) = (cache.Cache, cache.Path);
        }
        if (parts.All(p => p is not null))
            _teachers[k] = kind == LossKind.Alm ? teacher with { Alm = AlmCache.Join([.. parts.Cast<AlmCache>()]) }
                : teacher with { Cache = TeacherCache.Join([.. parts.Cast<TeacherCache>()]) };
        return path;
    }

    /// <summary>The teachers, run online whatever their caches (caches cover the training text only).</summary>
    public IReadOnlyList<Teacher> Online() => _teachers.Select(t => t with { Cache = null, Alm = null }).ToList();

    public void Dispose()
    {
        foreach (var t in _teachers) Release(t, _warm);
    }
}
