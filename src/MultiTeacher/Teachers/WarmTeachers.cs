using MultiTeacher.Alignment;
using MultiTeacher.Data;
using MultiTeacher.Recipes;
using MultiTeacher.Tokenization;
using static TorchSharp.torch;

namespace MultiTeacher.Teachers;

/// <summary>
/// What one worker process keeps between its teacher cache jobs: loaded teachers, keyed by content
/// hash, dtype, device and projection, and the last training samples, keyed by the data's hash,
/// the student tokenizer and the data settings. Each shard job would otherwise load the teacher and
/// tokenize the whole data again, a fixed cost per shard that grows with the model and the data.
/// A teacher is lent to one job at a time; at most <see cref="Capacity"/> stay loaded.
/// </summary>
public sealed class WarmTeachers(int capacity) : IDisposable
{
    private readonly record struct TeacherKey(string TeacherHash, ScalarType DType, string Device, string StudentTokenizer, ProjectionMethod Method, string CacheRoot);
    private sealed record Entry(TeacherKey Key, Teacher Teacher) { public bool Lent; public long LastUse; }
    private readonly record struct SamplesKey(string DataHash, string StudentTokenizer, DataSettings Data);

    private readonly List<Entry> _entries = [];
    private readonly Lock _lock = new();
    private long _clock;
    private bool _disposed;
    private (SamplesKey Key, TrainingSamples Samples)? _samples;
    private (string Directory, string Hash, HfTokenizer Tokenizer)? _student;

    /// <summary>The inputs' file hashes, remembered between the worker's input checks.</summary>
    public RememberedHashes Hashes { get; } = new();

    /// <summary>Teachers kept loaded at most, lent or idle (one per concurrent job serves every job without reloading).</summary>
    public int Capacity { get; } = capacity >= 1 ? capacity : throw new ArgumentOutOfRangeException(nameof(capacity), "at least one teacher");

    /// <summary>Teachers loaded now, lent or idle.</summary>
    public int Loaded
    {
        get { lock (_lock) return _entries.Count; }
    }

    /// <summary>The student tokenizer in <paramref name="directory"/>, loaded again only when its files changed.</summary>
    public HfTokenizer Tokenizer(string directory)
    {
        var (full, hash) = (Path.GetFullPath(directory), Hashes.Of(directory));
        lock (_lock)
            if (_student is { } s && s.Directory == full && s.Hash == hash) return s.Tokenizer;
        var tokenizer = HfTokenizer.FromDirectory(full);
        lock (_lock) _student = (full, hash, tokenizer);
        return tokenizer;
    }

    /// <summary>The recipe's training samples, tokenized once per process for a given data content, tokenizer and settings.</summary>
    /// <param name="dataHash">The training data's verified content hash.</param>
    public TrainingSamples Samples(DataSettings data, string dataHash, HfTokenizer student)
    {
        var key = new SamplesKey(dataHash, student.ContentHash, data);
        lock (_lock)
            if (_samples is { } s && s.Key == key) return s.Samples;
        var samples = TrainingSamples.ForRecipe(data, student);
        lock (_lock) _samples = (key, samples);
        return samples;
    }

    /// <summary>An idle loaded teacher with this key, or a new one from <paramref name="load"/>; true when it was already loaded. Give it back with <see cref="Return"/>.</summary>
    internal (Teacher Teacher, bool Warm) Lend(string teacherHash, ScalarType dtype, Device device, HfTokenizer student, ProjectionMethod method, string cacheRoot, Func<Teacher> load)
    {
        var key = new TeacherKey(teacherHash, dtype, device.ToString(), student.ContentHash, method, cacheRoot);
        lock (_lock)
        {
            if (_entries.FirstOrDefault(e => !e.Lent && e.Key == key) is { } idle)
            {
                (idle.Lent, idle.LastUse) = (true, ++_clock);
                return (idle.Teacher, true);
            }
            // Make room before loading: two large teachers may not fit side by side.
            Evict(Capacity - 1);
        }
        var teacher = load();
        lock (_lock) _entries.Add(new Entry(key, teacher) { Lent = true, LastUse = ++_clock });
        return (teacher, false);
    }

    /// <summary>Takes back a teacher lent by <see cref="Lend"/>; it stays loaded for the next job with its key.</summary>
    internal void Return(Teacher teacher)
    {
        lock (_lock)
        {
            var entry = _entries.Single(e => ReferenceEquals(e.Teacher.Model, teacher.Model));
            entry.Lent = false;
            Evict(_disposed ? 0 : Capacity);
        }
    }

    /// <summary>Disposes idle teachers, least recently used first, until at most <paramref name="keep"/> are loaded.</summary>
    private void Evict(int keep)
    {
        foreach (var idle in _entries.Where(e => !e.Lent).OrderBy(e => e.LastUse).ToList())
        {
            if (_entries.Count <= keep) break;
            _entries.Remove(idle);
            idle.Teacher.Model.Dispose();
        }
    }

    /// <summary>Disposes every teacher not lent out and forgets the samples; what is lent is kept until it comes back.</summary>
    public void Unload()
    {
        lock (_lock)
        {
            Evict(_entries.Count(e => e.Lent));
            (_samples, _student) = (null, null);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            // A teacher still lent to a job that outlived the worker's shutdown is disposed when it comes back.
            _disposed = true;
            Evict(0);
            (_samples, _student) = (null, null);
        }
    }
}
