namespace MultiTeacher.Merging;

/// <summary>
/// A merge parameter as mergekit's configuration writes it: a scalar, a gradient (a list of numbers
/// interpolated across the layers of a slice), or a list of conditional values chosen by a filter
/// on the tensor name. Line and column point back to the YAML for errors.
/// </summary>
public abstract record ParameterSetting(long Line, long Column)
{
    /// <summary>A number (weight, density, t, lambda).</summary>
    public sealed record Number(double Value, long Line, long Column) : ParameterSetting(Line, Column);

    /// <summary>A flag (normalize, rescale, filter_wise).</summary>
    public sealed record Flag(bool Value, long Line, long Column) : ParameterSetting(Line, Column);

    /// <summary>Values at evenly spaced points from the first layer (t = 0) to the last (t = 1).</summary>
    public sealed record Gradient(IReadOnlyList<double> Values, long Line, long Column) : ParameterSetting(Line, Column);

    /// <summary>The first entry whose filter is absent, "*", or a substring of the tensor name applies.</summary>
    public sealed record Conditional(IReadOnlyList<(string? Filter, ParameterSetting Value)> Cases, long Line, long Column) : ParameterSetting(Line, Column);

    /// <summary>
    /// The value for one tensor at position <paramref name="t"/> in [0, 1] of its slice, or null when
    /// no conditional case matches. A gradient of n values is piecewise linear: t·(n−1) falls between
    /// entries i and i+1 and is interpolated between them (mergekit's rule).
    /// </summary>
    public object? Evaluate(string tensorName, double t) => this switch
    {
        Number n => n.Value,
        Flag f => f.Value,
        Gradient g => Interpolate(g.Values, t),
        Conditional c => c.Cases.FirstOrDefault(k => k.Filter is null or "*" || tensorName.Contains(k.Filter, StringComparison.Ordinal)).Value?.Evaluate(tensorName, t),
        _ => throw new InvalidOperationException(),
    };

    public static double Interpolate(IReadOnlyList<double> values, double t)
    {
        var scaled = t * (values.Count - 1);
        var i0 = Math.Clamp((int)Math.Floor(scaled), 0, values.Count - 1);
        var i1 = Math.Min(values.Count - 1, i0 + 1);
        var fraction = scaled - i0;
        return (1 - fraction) * values[i0] + fraction * values[i1];
    }

    /// <summary>Every leaf value, for validating kinds and ranges once at load time.</summary>
    public IEnumerable<ParameterSetting> Leaves() => this is Conditional c ? c.Cases.SelectMany(k => k.Value.Leaves()) : [this];
}
