namespace MultiTeacher.Merging;

/// <summary>A merge problem with the user's input (configuration or models), reported with exit code 2.</summary>
public sealed class MergeException(string message) : BadInputException(message);

/// <summary>One input model of a slice: its directory, layer range [Start, End) (null: all layers) and parameters.</summary>
public sealed record MergeSource(string Model, (int Start, int End)? LayerRange, IReadOnlyDictionary<string, ParameterSetting> Parameters);

/// <summary>A run of output layers taken from the same layers of every source.</summary>
public sealed record MergeSlice(IReadOnlyList<MergeSource> Sources, IReadOnlyDictionary<string, ParameterSetting> Parameters);

/// <summary>
/// A mergekit-style merge configuration, resolved: model directories are absolute, and a `models`
/// list is one slice over every model's full layer range (with the base model added if unlisted).
/// </summary>
/// <param name="OutputDType">safetensors dtype of the output (F32, F16, BF16); null: the base model's.</param>
/// <param name="TokenizerSource">Directory whose tokenizer files the output gets; null: the base model's (or first model's).</param>
public sealed record MergeConfig(
    string File, string Text, MergeMethodSpec Method, string? BaseModel, IReadOnlyList<MergeSlice> Slices,
    IReadOnlyDictionary<string, ParameterSetting> Parameters, string? OutputDType, string? TokenizerSource)
{
    public IEnumerable<string> Models => Slices.SelectMany(s => s.Sources.Select(x => x.Model)).Append(BaseModel).OfType<string>().Distinct();

    /// <summary>
    /// A parameter for one tensor, looked up as mergekit does: the model's own source entry, then the
    /// slice, then the top level, then the method's default (null if it has none).
    /// </summary>
    public object? Parameter(string name, MergeSlice slice, MergeSource? source, string tensorName, double t)
    {
        foreach (var settings in new[] { source?.Parameters, slice.Parameters, Parameters })
            if (settings is not null && settings.TryGetValue(name, out var setting) && setting.Evaluate(tensorName, t) is { } value)
                return value;
        return Method.ModelParameters.TryGetValue(name, out var m) ? m.Default : Method.GlobalParameters.TryGetValue(name, out var g) ? g.Default : null;
    }
}
