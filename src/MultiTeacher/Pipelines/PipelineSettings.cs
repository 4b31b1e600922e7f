using MultiTeacher.Recipes;
using MultiTeacher.Settings;

namespace MultiTeacher.Pipelines;

/// <summary>What a pipeline stage does; its settings sit under the key of the same name.</summary>
public enum PipelineStageKind
{
    /// <summary>Give a model another tokenizer (vocabulary transplant).</summary>
    Transplant,
    /// <summary>An ordinary distillation recipe whose student (or teachers) may be earlier stages' models.</summary>
    Distill,
    /// <summary>A weight-space merge of models of one vocabulary.</summary>
    Merge,
    /// <summary>A plain fine-tune on hard labels: a distillation recipe without teachers.</summary>
    Finetune,
    /// <summary>Held-out bits per byte of models on named texts.</summary>
    Evaluate,
}

/// <summary>
/// A multi-stage pipeline recipe: named stages whose inputs may be earlier stages' models, written
/// ${stages.NAME.output}. Stage NAME writes under OUTPUT/NAME; its model is OUTPUT/NAME/model
/// (transplant, merge), OUTPUT/NAME/student (distill, finetune) or OUTPUT/NAME/eval.json (evaluate).
/// </summary>
public sealed record PipelineSettings
{
    /// <summary>The file the pipeline was read from.</summary>
    public string Source { get; init; } = "";

    [Setting("name", "the pipeline's name; the default output is runs/NAME", Required = true, Pattern = RecipeNames.Pattern, PatternHint = RecipeNames.Hint)]
    public string Name { get; init; } = "pipeline";

    [Setting("seed", "seed of merges that draw random numbers (dare_*)", Min = 0, Max = 9_007_199_254_740_991)]
    public long Seed { get; init; }

    [Setting("output", "pipeline directory: stage NAME writes OUTPUT/NAME (default: runs/NAME under the working directory)", Path = PathUse.Output)]
    public string Output { get; init; } = "";

    [Section("stages", "the stages, each with 'name', 'kind' and a section named after its kind", Required = true)]
    public IReadOnlyList<StageSettings> Stages { get; init; } = [];
}

/// <summary>One stage: its name, kind, and the settings of that kind (exactly one section, named after the kind).</summary>
public sealed record StageSettings
{
    [Setting("name", "the stage's name: its directory, job and lineage run name", Required = true, Pattern = RecipeNames.Pattern, PatternHint = RecipeNames.Hint)]
    public string Name { get; init; } = "";

    [Setting("kind", "what the stage does", Required = true)]
    public PipelineStageKind Kind { get; init; }

    [Section("transplant", "a vocabulary transplant")]
    public TransplantStageSettings? Transplant { get; init; }

    [Section("distill", "a distillation recipe (output is the stage's directory)")]
    public Recipe? Distill { get; init; }

    [Section("merge", "a weight-space merge")]
    public MergeStageSettings? Merge { get; init; }

    [Section("finetune", "a recipe without teachers: hard labels only (output is the stage's directory)")]
    public Recipe? Finetune { get; init; }

    [Section("evaluate", "held-out bits per byte of models on texts")]
    public EvaluateStageSettings? Evaluate { get; init; }

    /// <summary>The embedded recipe of a distill or finetune stage, else null.</summary>
    public Recipe? Recipe => Distill ?? Finetune;
}
