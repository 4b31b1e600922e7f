namespace MultiTeacher.Merging;

/// <summary>The weight-space merge methods, by their mergekit names.</summary>
public enum MergeMethodKind { Linear, Slerp, TaskArithmetic, Ties, DareTies, DareLinear, ModelStock }

/// <summary>Kinds of parameter values a method accepts.</summary>
public enum ParameterKind { Number, Flag }

/// <summary>
/// What each method reads from a configuration: its name, whether it needs a base model, and its
/// per-model parameters (weight, density) and global parameters with mergekit's defaults.
/// </summary>
public sealed record MergeMethodSpec(
    MergeMethodKind Kind, string Name, bool NeedsBase,
    IReadOnlyDictionary<string, (ParameterKind Kind, object? Default)> ModelParameters,
    IReadOnlyDictionary<string, (ParameterKind Kind, object? Default)> GlobalParameters)
{
    private static readonly (ParameterKind, object?) WeightRequired = (ParameterKind.Number, null);
    private static readonly (ParameterKind, object?) FullDensity = (ParameterKind.Number, 1.0);
    private static readonly (ParameterKind, object?) UnitLambda = (ParameterKind.Number, 1.0);

    public static readonly IReadOnlyList<MergeMethodSpec> All =
    [
        new(MergeMethodKind.Linear, "linear", false, Params(("weight", WeightRequired)), Params(("normalize", (ParameterKind.Flag, true)))),
        new(MergeMethodKind.Slerp, "slerp", true, Params(), Params(("t", (ParameterKind.Number, null)))),
        new(MergeMethodKind.TaskArithmetic, "task_arithmetic", true, Params(("weight", WeightRequired)),
            Params(("normalize", (ParameterKind.Flag, false)), ("lambda", UnitLambda))),
        new(MergeMethodKind.Ties, "ties", true, Params(("weight", WeightRequired), ("density", FullDensity)),
            Params(("normalize", (ParameterKind.Flag, true)), ("lambda", UnitLambda))),
        new(MergeMethodKind.DareTies, "dare_ties", true, Params(("weight", WeightRequired), ("density", FullDensity)),
            Params(("normalize", (ParameterKind.Flag, false)), ("rescale", (ParameterKind.Flag, true)), ("lambda", UnitLambda))),
        new(MergeMethodKind.DareLinear, "dare_linear", true, Params(("weight", WeightRequired), ("density", FullDensity)),
            Params(("normalize", (ParameterKind.Flag, false)), ("rescale", (ParameterKind.Flag, true)), ("lambda", UnitLambda))),
        new(MergeMethodKind.ModelStock, "model_stock", true, Params(), Params(("filter_wise", (ParameterKind.Flag, false)))),
    ];

    public static MergeMethodSpec Of(MergeMethodKind kind) => All.First(s => s.Kind == kind);

    /// <summary>Every parameter name the method knows, per-model and global.</summary>
    public IEnumerable<string> Known => ModelParameters.Keys.Concat(GlobalParameters.Keys);

    public ParameterKind? KindOf(string name) =>
        ModelParameters.TryGetValue(name, out var m) ? m.Kind : GlobalParameters.TryGetValue(name, out var g) ? g.Kind : null;

    private static Dictionary<string, (ParameterKind, object?)> Params(params (string Name, (ParameterKind, object?) Spec)[] entries) =>
        entries.ToDictionary(e => e.Name, e => e.Spec);
}
