using MultiTeacher.Recipes;

namespace MultiTeacher.Pipelines;

/// <summary>
/// A validated pipeline: its settings (every path absolute, each embedded recipe checked and its
/// output set to its stage's directory), the stages each depends on, an order in which every stage
/// follows its inputs, and the sha256 of every input no stage produces.
/// </summary>
public sealed record Pipeline(PipelineSettings Settings, IReadOnlyDictionary<string, IReadOnlyList<string>> Dependencies,
    IReadOnlyList<string> Order, IReadOnlyDictionary<string, string> Hashes)
{
    /// <summary>Second line of a pipeline's resolved YAML, so lineage tells it from a distillation recipe.</summary>
    public const string Header = "# pipeline";
    /// <summary>Second line of a stage's resolved YAML (transplant, merge, evaluate runs), followed by the pipeline's name.</summary>
    public const string StageHeader = "# pipeline stage of ";

    public string Name => Settings.Name;

    /// <summary>The lineage stage kind of a pipeline stage kind.</summary>
    public static Runs.StageKind StageKindOf(PipelineStageKind kind) => kind switch
    {
        PipelineStageKind.Transplant => Runs.StageKind.Transplant,
        PipelineStageKind.Distill => Runs.StageKind.Distill,
        PipelineStageKind.Merge => Runs.StageKind.Merge,
        PipelineStageKind.Finetune => Runs.StageKind.Finetune,
        _ => Runs.StageKind.Evaluate,
    };

    public StageSettings Stage(string name) => Settings.Stages.FirstOrDefault(s => s.Name == name)
        ?? throw new InvalidDataException($"pipeline {Name} has no stage '{name}'");

    /// <summary>The directory stage NAME writes.</summary>
    public static string Directory(string output, string stage) => Path.Combine(output, stage);

    /// <summary>What stage NAME makes, which ${stages.NAME.output} names: its model directory, or the evaluation's JSON.</summary>
    public static string OutputOf(string output, string stage, PipelineStageKind kind) => Path.Combine(Directory(output, stage), kind switch
    {
        PipelineStageKind.Distill or PipelineStageKind.Finetune => "student",
        PipelineStageKind.Evaluate => "eval.json",
        _ => "model",
    });

    public string OutputOf(string stage) => OutputOf(Settings.Output, stage, Stage(stage).Kind);

    /// <summary>Every input path of a stage by key, as the stage's lineage records it.</summary>
    public static Dictionary<string, string> Inputs(StageSettings stage) => stage.Recipe is { } recipe
        ? ResolvedRecipe.Inputs(recipe)
        : ResolvedRecipe.Inputs(stage, SettingsSchema.For<StageSettings>());

    /// <summary>The inputs of a stage that no stage produces, keyed STAGE.KEY: what the pipeline's hashes cover.</summary>
    public IEnumerable<KeyValuePair<string, string>> ExternalInputs(StageSettings stage) =>
        Inputs(stage).Where(kv => !Settings.Stages.Any(s => kv.Value == OutputOf(s.Name) || kv.Value.StartsWith(Directory(Settings.Output, s.Name) + Path.DirectorySeparatorChar, StringComparison.Ordinal)))
            .Select(kv => KeyValuePair.Create($"{stage.Name}.{kv.Key}", kv.Value));

    /// <summary>The pipeline with the sha256 of every external input, as submitted.</summary>
    public Pipeline Resolve() => this with { Hashes = Settings.Stages.SelectMany(ExternalInputs).ToDictionary(kv => kv.Key, kv => ContentHash.Of(kv.Value)) };

    /// <summary>Throws <see cref="InputsChangedException"/> when an external input of the stage no longer has its recorded content.</summary>
    public void VerifyInputs(StageSettings stage)
    {
        var changed = ExternalInputs(stage).Where(kv => !Hashes.TryGetValue(kv.Key, out var h) || h != ContentHash.Of(kv.Value)).Select(kv => kv.Key).ToList();
        if (changed.Count > 0) throw new InputsChangedException(changed);
    }

    /// <summary>The JSON Schema of pipeline files: an embedded recipe's name and output come from its stage, so they are not required there.</summary>
    public static System.Text.Json.Nodes.JsonObject JsonSchema()
    {
        var schema = RecipeJsonSchema.Build(SettingsSchema.For<PipelineSettings>(), "A MultiTeacher pipeline: stages of transplant, distill, merge, finetune and evaluate.", "pipeline", "MultiTeacher pipeline");
        var stage = schema["properties"]!["stages"]!["items"]!["properties"]!;
        foreach (var kind in new[] { PipelineStageKind.Distill, PipelineStageKind.Finetune })
            stage[MultiTeacher.Settings.SettingNames.Of(kind)]!.AsObject().Remove("required");
        return schema;
    }

    /// <summary>The resolved YAML lineage stores for the pipeline run: every stage, every default, the external inputs' hashes.</summary>
    public string ToYaml(bool annotate = false) =>
        RecipeYaml.Write(Settings, SettingsSchema.For<PipelineSettings>(), Settings.Source, [Header], Hashes, annotate);

    /// <summary>The resolved YAML of one transplant, merge or evaluate stage, as its own lineage run records it.</summary>
    public string StageYaml(StageSettings stage, IReadOnlyDictionary<string, string> hashes) =>
        RecipeYaml.Write(stage, SettingsSchema.For<StageSettings>(), Settings.Source, [StageHeader + Name], hashes);
}
