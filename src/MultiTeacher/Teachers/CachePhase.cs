using System.Diagnostics;
using System.Globalization;

namespace MultiTeacher.Teachers;

/// <summary>The parts of a teacher cache job, timed separately to see which of them parallelise across workers.</summary>
public enum CachePhase
{
    /// <summary>Re-hashing the inputs the job reads against the hashes recorded at submission.</summary>
    Inputs,
    /// <summary>Reading and tokenizing the training data into samples, to find the shard's texts.</summary>
    Samples,
    /// <summary>Loading the teacher (weights, tokenizer, projection), or taking it from the worker's warm set.</summary>
    Teacher,
    /// <summary>Opening the cache file, or running the teacher over the texts and writing it.</summary>
    Cache,
}

/// <summary>Seconds spent per <see cref="CachePhase"/> of one job, written as one log line so runs can be compared phase by phase.</summary>
public sealed class PhaseClock
{
    /// <summary>The line's first words; what follows is "phase seconds s" per phase, comma-separated.</summary>
    public const string Prefix = "phases:";

    private readonly double[] _seconds = new double[Enum.GetValues<CachePhase>().Length];

    public double this[CachePhase phase] => _seconds[(int)phase];

    public T Time<T>(CachePhase phase, Func<T> work)
    {
        var start = Stopwatch.GetTimestamp();
        try { return work(); }
        finally { _seconds[(int)phase] += Stopwatch.GetElapsedTime(start).TotalSeconds; }
    }

    public void Time(CachePhase phase, Action work) => Time(phase, () => { work(); return 0; });

    public override string ToString() =>
        Prefix + " " + string.Join(", ", Enum.GetValues<CachePhase>().Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.ToString().ToLowerInvariant()} {this[p]:F3} s")));

    /// <summary>The seconds per phase of a line written by <see cref="ToString"/> (anywhere in it, after a log prefix); null for any other line.</summary>
    public static IReadOnlyDictionary<CachePhase, double>? Parse(string line)
    {
        var at = line.IndexOf(Prefix, StringComparison.Ordinal);
        if (at < 0) return null;
        var result = new Dictionary<CachePhase, double>();
        foreach (var part in line[(at + Prefix.Length)..].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var words = part.Split(' ');
            if (words.Length != 3 || !Enum.TryParse<CachePhase>(words[0], ignoreCase: true, out var phase)
                || !double.TryParse(words[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)) return null;
            result[phase] = seconds;
        }
        return result.Count == Enum.GetValues<CachePhase>().Length ? result : null;
    }
}
