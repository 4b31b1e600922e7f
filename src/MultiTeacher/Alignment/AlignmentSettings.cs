using MultiTeacher.Settings;

namespace MultiTeacher.Alignment;

/// <summary>How teacher distributions are carried into the student vocabulary.</summary>
public sealed record AlignmentSettings
{
    [Setting("method", "how teacher tokens map to student tokens")]
    public ProjectionMethod Method { get; init; } = ProjectionMethod.FirstToken;

    [Setting("top_k", "teacher probabilities kept per position", Min = 1, Max = 1024)]
    public int TopK { get; init; } = 64;

    [Setting("tail", "mass outside the top-k: a bucket spread over the other tokens, one lumped outcome, dropped and the top-k rescaled, or spread over the teacher's other tokens and projected with them (teacher_spread)")]
    public TailTreatment Tail { get; init; } = TailTreatment.Bucket;

    [Setting("boundary", "a foreign teacher's row assumes its last token ended where the student's did (assumed), or is mixed with the longer tokens it could have written one step back that the student's tokenizer splits at the same byte (marginalized)")]
    public BoundaryTreatment Boundary { get; init; } = BoundaryTreatment.Assumed;
}
