using MultiTeacher.Alignment;
using MultiTeacher.Cache;
using MultiTeacher.Mixing;

namespace MultiTeacher.Training;

/// <summary>
/// Approximate likelihood matching knobs: the binarisation temperature τ (chunk probabilities
/// are compared as p^(1/τ)), the merge threshold γ (a chunk joins the next while the teacher's
/// probability of a word boundary after it is below γ; 0 never merges) and whether chunk
/// likelihoods are debiased by that boundary probability. Defaults are the paper's.
/// </summary>
public sealed record AlmSettings(double Temperature = 100, double Gamma = 0.1, bool Debias = true);

/// <summary>
/// The scored chunks of a batch for one teacher, laid out for <see cref="AlmLoss"/>: the student
/// rows (flattened batch positions) and observed ids whose log-probabilities each chunk sums, the
/// row after which its boundary probability is read, and the teacher's chunk log-likelihood,
/// already summed from the cached records. Chunks are merged by the teacher's boundary
/// probability here, since that needs no student value. Each chunk also keeps its sequence, its
/// bytes and the teacher's log-likelihood of its text (without the boundary term), from which
/// <see cref="Scores"/> gives the per-teacher policies their tokenizer-independent figures.
/// </summary>
public sealed class AlmChunkPlan(AlmSettings settings)
{
    private readonly List<long> _rows = [], _ids = [], _chunkOfRow = [], _endRows = [];
    private readonly List<double> _teacher = [], _teacherText = [];
    private readonly List<int> _sequence = [], _bytes = [];

    public AlmSettings Settings { get; } = settings;
    public int Chunks => _teacher.Count;
    /// <summary>Scored chunks before merging.</summary>
    public int ChunksBeforeMerge { get; private set; }
    /// <summary>The share of scored chunks that γ joined to the next: 1 − Chunks / ChunksBeforeMerge (0 without chunks).</summary>
    public double Merged => ChunksBeforeMerge == 0 ? 0 : 1 - Chunks / (double)ChunksBeforeMerge;
    public long Bytes { get; private set; }
    public long CoveredBytes { get; private set; }
    public double Coverage => Bytes == 0 ? 0 : CoveredBytes / (double)Bytes;

    public IReadOnlyList<long> Rows => _rows;
    public IReadOnlyList<long> Ids => _ids;
    public IReadOnlyList<long> ChunkOfRow => _chunkOfRow;
    public IReadOnlyList<long> EndRows => _endRows;
    public IReadOnlyList<double> TeacherLogLikelihood => _teacher;
    /// <summary>The teacher's log-likelihood of each chunk's text: its observed tokens only, no boundary term.</summary>
    public IReadOnlyList<double> TeacherTextLogLikelihood => _teacherText;
    /// <summary>Which sequence (call of <see cref="Add"/>, from 0) each chunk is in.</summary>
    public IReadOnlyList<int> SequenceOfChunk => _sequence;
    public IReadOnlyList<int> BytesOfChunk => _bytes;
    /// <summary>Sequences added.</summary>
    public int Sequences { get; private set; }

    /// <summary>
    /// Adds one sequence: its chunks, the student's token ids (as chunked), the teacher's records
    /// (one per teacher token, as chunked), and the flattened row of the student's position 0.
    /// Student token i is predicted by row <paramref name="rowOffset"/> + i − 1.
    /// </summary>
    public void Add(ChunkAlignment alignment, IReadOnlyList<int> studentIds, IReadOnlyList<AlmPosition> teacher, long rowOffset)
    {
        Bytes += alignment.Bytes;
        CoveredBytes += alignment.CoveredBytes;
        var scored = alignment.Scored.ToArray();
        ChunksBeforeMerge += scored.Length;
        var logGamma = Settings.Gamma > 0 ? Math.Log(Settings.Gamma) : double.NegativeInfinity;
        var open = false;
        var (teacherSum, bytes) = (0.0, 0);
        for (var k = 0; k < scored.Length; k++)
        {
            var c = scored[k];
            if (c.TeacherEnd > teacher.Count || c.StudentEnd > studentIds.Count)
                throw new ArgumentException($"chunk [{c.ByteStart}, {c.ByteEnd}) reaches past the {teacher.Count} teacher records or {studentIds.Count} student tokens given");
            var chunk = _teacher.Count;
            for (var i = c.StudentStart; i < c.StudentEnd; i++)
            {
                _rows.Add(rowOffset + i - 1);
                _ids.Add(studentIds[i]);
                _chunkOfRow.Add(chunk);
            }
            for (var i = c.TeacherStart; i < c.TeacherEnd; i++) teacherSum += teacher[i - 1].ObservedLogProb;
            bytes += c.Bytes;
            open = true;
            var boundary = (double)teacher[c.TeacherEnd - 1].BoundaryLogMass;
            var adjacent = k + 1 < scored.Length && scored[k + 1].ByteStart == c.ByteEnd;
            if (adjacent && boundary < logGamma) continue;   // the teacher doubts a word ends here: the chunk goes on
            _teacher.Add(teacherSum + (Settings.Debias ? boundary : 0));
            _teacherText.Add(teacherSum);
            _sequence.Add(Sequences);
            _bytes.Add(bytes);
            _endRows.Add(rowOffset + c.StudentEnd - 1);
            (teacherSum, bytes, open) = (0, 0, false);
        }
        if (open) throw new InvalidOperationException("a merged chunk was left open");
        Sequences++;
    }

    /// <summary>
    /// The teacher on each sequence, over its scored chunks C_s: bits per byte
    /// −Σ_{c∈C_s} ℓ_text(c) / (ln 2 · Σ_{c∈C_s} n_c), and confidence Σ_{c∈C_s} n_c·e^{ℓ(c)} / Σ_{c∈C_s} n_c,
    /// with n_c a chunk's bytes, ℓ_text its text log-likelihood and ℓ its likelihood as the loss compares it.
    /// </summary>
    public SequenceScore[] Scores()
    {
        var logLikelihood = new double[Sequences];
        var probability = new double[Sequences];
        var bytes = new long[Sequences];
        for (var c = 0; c < Chunks; c++)
        {
            var q = _sequence[c];
            logLikelihood[q] += _teacherText[c];
            probability[q] += _bytes[c] * Math.Exp(_teacher[c]);
            bytes[q] += _bytes[c];
        }
        return Enumerable.Range(0, Sequences).Select(q => bytes[q] == 0 ? new SequenceScore(0, double.NaN, double.NaN)
            : new SequenceScore(bytes[q], -logLikelihood[q] / (Math.Log(2) * bytes[q]), probability[q] / bytes[q])).ToArray();
    }
}
