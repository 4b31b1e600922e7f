using MultiTeacher.Merging;
using MultiTeacher.Settings;

namespace MultiTeacher.Pipelines;

/// <summary>A transplant stage: the model, the tokenizer it gets, and how rows of new tokens are approximated.</summary>
public sealed record TransplantStageSettings
{
    [Setting("model", "model directory to transplant (with its tokenizer)", Required = true, Path = PathUse.Input)]
    public string Model { get; init; } = "";

    [Setting("tokenizer", "directory of the new tokenizer", Required = true, Path = PathUse.Input)]
    public string Tokenizer { get; init; } = "";

    [Setting("method", "rows of new tokens: mean of the old pieces, or omp over shared anchors")]
    public TransplantMethod Method { get; init; } = TransplantMethod.Omp;

    [Setting("k", "anchor tokens per new token for omp", Min = 1, Max = 4096)]
    public int K { get; init; } = 64;

    [Setting("donor", "a model using the new tokenizer, in whose embedding space omp runs", Path = PathUse.Input)]
    public string? Donor { get; init; }

    [Setting("head", "new rows of a separate LM head: average (of all old head rows; the default) or approximate (as the embedding's); not for tied embeddings")]
    public TransplantHead? Head { get; init; }
}

/// <summary>A merge stage: a mergekit merge of the listed models (and base) with one method.</summary>
public sealed record MergeStageSettings
{
    [Setting("method", "merge method (as mergekit names it)", Required = true)]
    public MergeMethodKind Method { get; init; }

    [Setting("base_model", "base model (slerp: the t=0 endpoint; ties, dare, task arithmetic: the model the deltas are from)", Path = PathUse.Input)]
    public string? BaseModel { get; init; }

    [Setting("t", "slerp's interpolation factor", Min = 0, Max = 1)]
    public double T { get; init; } = 0.5;

    [Setting("dtype", "dtype the merge computes in", Choices = ["float32", "bfloat16", "float16"])]
    public string DType { get; init; } = "float32";

    [Section("models", "the models merged", Required = true)]
    public IReadOnlyList<MergeModelSettings> Models { get; init; } = [];
}

/// <summary>One model of a merge stage and its per-model parameters.</summary>
public sealed record MergeModelSettings
{
    [Setting("model", "model directory", Required = true, Path = PathUse.Input)]
    public string Model { get; init; } = "";

    [Setting("weight", "the model's weight (linear, ties, dare, task arithmetic)", Min = -1e6, Max = 1e6)]
    public double Weight { get; init; } = 1.0;

    [Setting("density", "fraction of delta entries kept (ties, dare)", Min = 0, ExclusiveMin = true, Max = 1)]
    public double Density { get; init; } = 1.0;
}

/// <summary>An evaluate stage: held-out bits per byte of each model on each text, and over all texts.</summary>
public sealed record EvaluateStageSettings
{
    [Setting("window", "tokens of context per scored window", Min = 2, Max = 1_000_000)]
    public int Window { get; init; } = 64;

    [Setting("max_bytes", "bytes scored per text", Min = 1, Max = 1e12)]
    public long MaxBytes { get; init; } = 30_000;

    [Section("models", "the models scored", Required = true)]
    public IReadOnlyList<NamedPath> Models { get; init; } = [];

    [Section("texts", "the held-out texts (one document per blank-line-separated paragraph block)", Required = true)]
    public IReadOnlyList<NamedPath> Texts { get; init; } = [];
}

/// <summary>A named input file or directory.</summary>
public sealed record NamedPath
{
    [Setting("name", "its name in metrics and tables", Required = true, Pattern = Recipes.RecipeNames.Pattern, PatternHint = Recipes.RecipeNames.Hint)]
    public string Name { get; init; } = "";

    [Setting("path", "the file or directory", Required = true, Path = PathUse.Input)]
    public string Path { get; init; } = "";
}
