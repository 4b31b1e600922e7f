using MultiTeacher.Evaluation;
using MultiTeacher.Teachers;

namespace MultiTeacher.Experiments.Twins;

/// <summary>
/// Everything the experiment measured: the splits, the models, each model's bits per byte as
/// [seed][test document], the teachers' top-64 mass, the validation grid and its choice, and per
/// teacher the quality of its distillation target at each measured top-k (<see cref="TargetQuality"/>),
/// the student recipes the run was limited to (null: all), the command line that reproduces it, and
/// per teacher other than a genre's same-tokenizer twin, that twin compared with it as targets
/// (<see cref="TargetAgreement"/>).
/// </summary>
public sealed record TwinsResults(IReadOnlyList<GenreSplit> Splits, IReadOnlyList<TwinsModel> Teachers, IReadOnlyList<TwinsModel> Students,
    IReadOnlyDictionary<string, double[][]> Scores, IReadOnlyDictionary<string, double> TopMass,
    IReadOnlyList<(AlmChoice Choice, double Validation)> Tuning, AlmChoice Chosen, int Seeds, TimeSpan Elapsed,
    IReadOnlyDictionary<string, IReadOnlyList<(int TopK, TargetQuality Quality)>>? Targets = null, IReadOnlyList<string>? Only = null, string? Command = null,
    IReadOnlyDictionary<string, TargetAgreement>? Agreement = null);

/// <summary>
/// The experiment's comparisons, each a paired bootstrap over seeds and test documents
/// (<see cref="PairedBootstrap"/>). A teacher has one seed; paired with a student, its one row
/// stands against each of the student's seeds. Δ is a − b in bits per byte: negative, a is better.
/// </summary>
public sealed class TwinsFigures(TwinsResults results)
{
    public const string HardLabel = "hard-label", SameTokenizer = "same-fused", ForeignAlm = "foreign-alm", SameAlm = "same-alm",
        SamePositions = "same-fused-foreign_positions", ForeignFirstToken = "foreign-first_token", SameSeedTwins = "same-fused-seed2";

    /// <summary>Cross-tokenizer methods, each the suffix of the student taught by the three foreign twins with it; <see cref="MethodsRun"/> adds first_token under each paired setting.</summary>
    public static readonly IReadOnlyList<string> Methods = ["first_token", "uld", "alm", "exact", "exact_lump"];

    public IEnumerable<string> Genres => results.Splits.Select(s => s.Genre);
    public TwinsResults Results => results;

    /// <summary>How the name of a teacher twin with the student's tokenizer ends.</summary>
    public const string SameTokenizerSuffix = "-mistral";

    /// <summary>How the name of the same-tokenizer twin's copy trained from another seed ends.</summary>
    public const string SeedTwinSuffix = "-mistral-seed2";

    /// <summary>The twins of a genre: the teacher with the student's tokenizer, and the foreign one.</summary>
    public (string Same, string Foreign) Twins(string genre)
    {
        var (same, foreign, _) = Pair(TeachersOf(genre));
        return (same, foreign);
    }

    /// <summary>The genre's same-tokenizer teacher trained from another seed, if the run has one.</summary>
    public string? SeedTwin(string genre) => Pair(TeachersOf(genre)).Seed;

    /// <summary>
    /// One genre's teachers told apart by name: the one with the student's tokenizer
    /// (<see cref="SameTokenizerSuffix"/>), its copy from another seed (<see cref="SeedTwinSuffix"/>, if any) and the foreign one.
    /// </summary>
    public static (string Same, string Foreign, string? Seed) Pair(IReadOnlyList<string> names)
    {
        var same = names.Single(n => n.EndsWith(SameTokenizerSuffix, StringComparison.Ordinal));
        var seed = names.SingleOrDefault(n => n.EndsWith(SeedTwinSuffix, StringComparison.Ordinal));
        return (same, names.Single(n => n != same && n != seed), seed);
    }

    private List<string> TeachersOf(string genre) =>
        results.Teachers.Select(t => t.Name).Where(n => n.StartsWith(genre + "-", StringComparison.Ordinal)).ToList();

    /// <summary>Document indices of a genre in the score rows (null: every document).</summary>
    private int[] Documents(string? genre)
    {
        var start = 0;
        foreach (var s in results.Splits)
        {
            if (genre is null || s.Genre == genre)
                return genre is null ? Enumerable.Range(0, results.Splits.Sum(x => x.Test.Count)).ToArray() : Enumerable.Range(start, s.Test.Count).ToArray();
            start += s.Test.Count;
        }
        throw new ArgumentException($"no genre {genre}", nameof(genre));
    }

    /// <summary>Cells [seed][document] of a − b on the documents of a genre (null: all); a model with fewer seeds (a teacher) repeats its last row.</summary>
    public double[][] Difference(string a, string b, string? genre)
    {
        var docs = Documents(genre);
        var rows = Math.Max(results.Scores[a].Length, results.Scores[b].Length);
        return Enumerable.Range(0, rows).Select(s =>
        {
            var (ra, rb) = (Row(a, s), Row(b, s));
            return docs.Select(d => ra[d] - rb[d]).ToArray();
        }).ToArray();
    }

    private double[] Row(string model, int seed) => results.Scores[model][Math.Min(seed, results.Scores[model].Length - 1)];

    /// <summary>Mean bits per byte over seeds and the documents of a genre (null: all).</summary>
    public double Mean(string model, string? genre)
    {
        var docs = Documents(genre);
        return results.Scores[model].Average(row => docs.Average(d => row[d]));
    }

    public BootstrapInterval Delta(string a, string b, string? genre) => PairedBootstrap.Mean(Difference(a, b, genre));

    /// <summary>Δ of the student taught by the three foreign twins with a method against hard labels, on the documents of a genre (null: all).</summary>
    public BootstrapInterval ForeignGain(string method, string? genre = null) => Delta(Foreign(method), HardLabel, genre);

    /// <summary>Δ of the student taught by the three same-tokenizer twins against hard labels.</summary>
    public BootstrapInterval SameGain(string? genre = null) => Delta(SameTokenizer, HardLabel, genre);

    /// <summary>Transfer efficiency: the foreign twins' Δ over the same-tokenizer twins' Δ, both against hard labels on the same draws.</summary>
    public BootstrapInterval? TransferEfficiency(string method, string? genre = null) => GainRatio(Foreign(method), SameTokenizer, genre);

    /// <summary>
    /// Δ(numerator) / Δ(denominator), both against hard labels on the same draws; null where the
    /// denominator's own interval includes zero: the ratio then takes any value of either sign, and
    /// its point estimate can even lie outside its percentile interval.
    /// </summary>
    public BootstrapInterval? GainRatio(string numerator, string denominator, string? genre = null)
    {
        var below = Difference(denominator, HardLabel, genre);
        var gain = PairedBootstrap.Mean(below);
        return gain.Low <= 0 && gain.High >= 0 ? null : PairedBootstrap.Ratio(Difference(numerator, HardLabel, genre), below);
    }

    public static string Foreign(string method) => $"foreign-{method}";

    /// <summary>The methods whose three-foreign-twin student was trained: those of <see cref="Methods"/>, then first_token under every other setting a <c>foreign-first_token-SETTING</c> student was trained with.</summary>
    public IEnumerable<string> MethodsRun => Methods.Where(m => results.Scores.ContainsKey(Foreign(m)))
        .Concat(results.Scores.Keys.Where(n => n.StartsWith(ForeignFirstToken + "-", StringComparison.Ordinal)).Select(n => n[Foreign("").Length..]).Order(StringComparer.Ordinal));

    /// <summary>The cross-tokenizer method whose student gains most over all test documents (null: none was trained).</summary>
    public string? BestMethod => MethodsRun.MinBy(m => Mean(Foreign(m), null));

    /// <summary>The student taught by one foreign twin, the genre's, with a method.</summary>
    public static string Single(string genre, string method) => $"single-{genre}-{method}";

    /// <summary>
    /// The method the three-teacher claim is judged on: the best of those with a single-teacher
    /// student for every genre (null: no method has them all).
    /// </summary>
    public string? ThreeTeacherMethod => MethodsRun.Where(m => Genres.All(g => results.Scores.ContainsKey(Single(g, m)))).MinBy(m => Mean(Foreign(m), null));

    public string? ThreeTeachers => ThreeTeacherMethod is { } m ? Foreign(m) : null;

    /// <summary>The single-teacher student of <see cref="ThreeTeacherMethod"/> with the lowest bits per byte over all test documents (picked on test: it favours the opponent).</summary>
    public string? BestSingle => ThreeTeacherMethod is { } method ? Genres.Select(g => Single(g, method)).MinBy(m => Mean(m, null)) : null;

    /// <summary>
    /// Foreign-twin students that add one setting (the last "-" part of the name) to another trained
    /// foreign-twin student and have no same-tokenizer counterpart (<see cref="PairedVariants"/>),
    /// each with the student without it: the setting's effect, everything else held.
    /// </summary>
    public IEnumerable<(string With, string Without)> ForeignSettings => results.Scores.Keys
        .Where(n => n.StartsWith(ForeignFirstToken + "-", StringComparison.Ordinal) && results.Scores.ContainsKey(n[..n.LastIndexOf('-')])
            && !PairedVariants.Contains(n[(ForeignFirstToken.Length + 1)..]))
        .Order(StringComparer.Ordinal)
        .Select(n => (n, n[..n.LastIndexOf('-')]));

    /// <summary>
    /// Students run in pairs that differ from <c>foreign-first_token</c> and <c>same-fused</c> by the
    /// same setting (a suffix, as <c>-rkl</c>): the swap of tokenizers under that setting.
    /// </summary>
    public IEnumerable<string> PairedVariants => results.Scores.Keys
        .Where(n => n.StartsWith(ForeignFirstToken + "-", StringComparison.Ordinal) && results.Scores.ContainsKey(ForeignFirstToken))
        .Select(n => n[(ForeignFirstToken.Length + 1)..])
        .Where(v => results.Scores.ContainsKey($"{SameTokenizer}-{v}"))
        .Order(StringComparer.Ordinal);
}
