using MultiTeacher.Alignment;
using MultiTeacher.Cache;

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
/// probability here, since that needs no student value.
/// </summary>
public sealed class AlmChunkPlan(AlmSettings settings)
{
    private readonly List<long> _rows = [], _ids = [], _chunkOfRow = [], _endRows = [];
    private readonly List<double> _teacher = [];

    public AlmSettings Settings { get; } = settings;
    public int Chunks => _teacher.Count;
    /// <summary>Scored chunks before merging.</summary>
    public int ChunksBeforeMerge { get; private set; }
    public long Bytes { get; private set; }
    public long CoveredBytes { get; private set; }
    public double Coverage => Bytes == 0 ? 0 : CoveredBytes / (double)Bytes;

    public IReadOnlyList<long> Rows => _rows;
    public IReadOnlyList<long> Ids => _ids;
    public IReadOnlyList<long> ChunkOfRow => _chunkOfRow;
    public IReadOnlyList<long> EndRows => _endRows;
    public IReadOnlyList<double> TeacherLogLikelihood => _teacher;

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
        var teacherSum = 0.0;
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
            open = true;
            var boundary = (double)teacher[c.TeacherEnd - 1].BoundaryLogMass;
            var adjacent = k + 1 < scored.Length && scored[k + 1].ByteStart == c.ByteEnd;
            if (adjacent && boundary < logGamma) continue;   // the teacher doubts a word ends here: the chunk goes on
            _teacher.Add(teacherSum + (Settings.Debias ? boundary : 0));
            _endRows.Add(rowOffset + c.StudentEnd - 1);
            (teacherSum, open) = (0, false);
        }
        if (open) throw new InvalidOperationException("a merged chunk was left open");
    }
}
