using MultiTeacher.Alignment;
using MultiTeacher.Data;
using MultiTeacher.Evaluation;
using MultiTeacher.Losses;
using MultiTeacher.Mixing;
using MultiTeacher.Settings;

namespace MultiTeacher.Recipes;

/// <summary>A validated recipe: every path absolute, every default filled in; composed of each feature's settings.</summary>
public sealed record Recipe
{
    /// <summary>The file the recipe was read from.</summary>
    public string Source { get; init; } = "";

    [Setting("name", "the run's name; the default output is runs/NAME", Required = true, Pattern = RecipeNames.Pattern, PatternHint = RecipeNames.Hint)]
    public string Name { get; init; } = "recipe";

    [Setting("seed", "seed of initialisation and sample order", Min = 0, Max = 9_007_199_254_740_991)]
    public long Seed { get; init; }

    [Setting("device", "auto (CUDA when available), cpu or cuda", Choices = ["auto", "cpu", "cuda"])]
    public string Device { get; init; } = "auto";

    /// <summary>CPU threads for torch (0: torch's default). Fixed for runs that must replay bit-identically.</summary>
    [Setting("threads", "CPU threads for torch (0: torch's default)", Min = 0, Max = 1024)]
    public int Threads { get; init; }

    /// <summary>Marks a run that must be auditable: requires a fixed thread count; recorded in the environment.</summary>
    [Setting("deterministic", "an auditable run: needs a fixed thread count")]
    public bool Deterministic { get; init; }

    [Section("data", "the text", Required = true)]
    public DataSettings Data { get; init; } = new();

    [Section("teachers", "the teachers (none: hard labels only)")]
    public IReadOnlyList<TeacherSettings> Teachers { get; init; } = [];

    [Section("student", "the student", Required = true)]
    public StudentSettings Student { get; init; } = new();

    [Section("alignment", "teacher to student vocabulary")]
    public AlignmentSettings Alignment { get; init; } = new();

    [Section("mixing", "blending the teachers")]
    public MixingSettings Mixing { get; init; } = new();

    [Section("loss", "the training objective")]
    public LossSettings Loss { get; init; } = new();

    [Section("train", "the training loop")]
    public TrainSettings Train { get; init; } = new();

    [Section("eval", "held-out evaluation")]
    public EvalSettings Eval { get; init; } = new();

    [Setting("output", "run directory (default: runs/NAME under the working directory)", Path = PathUse.Output)]
    public string Output { get; init; } = "";

    [Setting("cache_root", "where teacher caches and projections live, shared by every worker of the run (a path every machine mounts alike; default: the worker's --cache-root, else $MT_CACHE, else ~/.cache/multiteacher)",
        Path = PathUse.Output)]
    public string? CacheRoot { get; init; }

    /// <summary>The KEY.PATH=VALUE overrides applied on top of the file, in order.</summary>
    public IReadOnlyList<string> Overrides { get; init; } = [];
}
