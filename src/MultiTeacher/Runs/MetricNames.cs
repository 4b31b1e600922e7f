namespace MultiTeacher.Runs;

/// <summary>
/// The one naming scheme of metrics, shared by metrics.jsonl keys, lineage.metrics rows, the CLI and the
/// dashboard: snake_case words, '/' between a group and its member (weight/llama, bpb/teacher/qwen).
/// Teacher names stay as the recipe spells them.
/// </summary>
public static class MetricNames
{
    public const string Step = "step";
    public const string Loss = "loss";
    public const string HardLabelCe = "ce";
    public const string Distillation = "kd";
    public const string LearningRate = "lr";
    public const string GradNorm = "grad_norm";
    public const string TokensPerSecond = "tokens_per_s";
    /// <summary>Student bits per byte measured every eval.every steps while training.</summary>
    public const string EvalBitsPerByte = "eval_bpb";

    /// <summary>Group of held-out bits per byte measured once a run has trained: bpb/student, bpb/teacher/NAME, bpb/heldout_GENRE.</summary>
    public const string BitsPerByteGroup = "bpb/";
    public const string StudentBitsPerByte = BitsPerByteGroup + "student";
    public const string InitialStudentBitsPerByte = BitsPerByteGroup + "student_initial";
    public const string Top1Agreement = "blend/top1";
    public const string BlendKl = "blend/kl";

    public const string WeightGroup = "weight/";
    public const string CoverageGroup = "coverage/";
    /// <summary>Group of each teacher's own distillation term (alm, uld).</summary>
    public const string TermGroup = "term/";
    /// <summary>Group of each teacher's bits per byte on the training step's text (alm), what the per-teacher policies weigh by.</summary>
    public const string TextBitsPerByteGroup = "text_bpb/";
    /// <summary>Group of the share of each teacher's scored chunks that alm's γ merged into the next one.</summary>
    public const string MergedGroup = "alm_merged/";
    /// <summary>Group of the share of each teacher's target mass that alignment.boundary: marginalized gave to the longer readings of its last token.</summary>
    public const string MarginalizedGroup = "marginalized/";

    public static string Weight(string teacher) => WeightGroup + teacher;
    public static string Coverage(string teacher) => CoverageGroup + teacher;
    public static string Term(string teacher) => TermGroup + teacher;
    public static string TextBitsPerByte(string teacher) => TextBitsPerByteGroup + teacher;
    public static string Merged(string teacher) => MergedGroup + teacher;
    public static string Marginalized(string teacher) => MarginalizedGroup + teacher;
    public static string TeacherBitsPerByte(string teacher) => BitsPerByteGroup + "teacher/" + teacher;
    public static string HeldOutBitsPerByte(string genre) => BitsPerByteGroup + "heldout_" + genre;
    /// <summary>Held-out bits per byte of one of several models a pipeline's evaluate stage scores: bpb/MODEL/heldout_TEXT.</summary>
    public static string HeldOutBitsPerByte(string model, string text) => BitsPerByteGroup + model + "/heldout_" + text;

    /// <summary>The member of a group ("llama" of weight/llama), or null when the name is not in it.</summary>
    public static string? Member(string name, string group) => name.StartsWith(group, StringComparison.Ordinal) ? name[group.Length..] : null;
}
