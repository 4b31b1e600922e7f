using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace MultiTeacher.Merging;

/// <summary>Parameter values of a merge configuration: scalars, gradients and filtered lists, checked by kind and range.</summary>
public static partial class MergeConfigLoader
{
    private sealed partial class Reader
    {
        private ParameterSetting? Setting(string name, YamlNode node)
        {
            var kind = _method.KindOf(name)!.Value;
            switch (node)
            {
                case YamlScalarNode scalar:
                    return Leaf(name, kind, scalar);
                case YamlSequenceNode list when list.Children.All(c => c is YamlScalarNode):
                    if (kind != ParameterKind.Number || list.Children.Count == 0) { Error(node, $"'{name}' cannot be a list here"); return null; }
                    var values = list.Children.Select(c => Leaf(name, kind, (YamlScalarNode)c)).ToList();
                    return values.All(v => v is ParameterSetting.Number)
                        ? new ParameterSetting.Gradient(values.Cast<ParameterSetting.Number>().Select(v => v.Value).ToList(), node.Start.Line, node.Start.Column) : null;
                case YamlSequenceNode conditions:
                    var cases = new List<(string?, ParameterSetting)>();
                    foreach (var c in conditions)
                    {
                        if (c is not YamlMappingNode m) { Error(c, $"entries of '{name}' must all be numbers or all be mappings with 'filter' and 'value'"); continue; }
                        RejectUnknown(m, $"a filtered value of '{name}'", "filter", "value");
                        if (Node(m, "value") is not { } value) { Error(m, "missing required key 'value'"); continue; }
                        if (Setting(name, value) is { } inner) cases.Add((Scalar(m, "filter"), inner));
                    }
                    return new ParameterSetting.Conditional(cases, node.Start.Line, node.Start.Column);
                default:
                    Error(node, $"'{name}' must be a value, a list of values, or a list of filtered values");
                    return null;
            }
        }

        private ParameterSetting? Leaf(string name, ParameterKind kind, YamlScalarNode node)
        {
            var (line, column) = (node.Start.Line, node.Start.Column);
            if (kind == ParameterKind.Flag)
            {
                if (node.Value is "true" or "false") return new ParameterSetting.Flag(node.Value == "true", line, column);
                Error(node, $"'{name}' must be true or false");
                return null;
            }
            if (!double.TryParse(node.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v))
            {
                Error(node, $"'{name}' must be a number, got '{node.Value}'");
                return null;
            }
            var problem = name switch
            {
                "density" when v is <= 0 or > 1 => "must be in (0, 1]",
                "t" when v is < 0 or > 1 => "must be in [0, 1]",
                _ => null,
            };
            if (problem is not null) { Error(node, $"'{name}' is {v.ToString(CultureInfo.InvariantCulture)}, {problem}"); return null; }
            return new ParameterSetting.Number(v, line, column);
        }
    }
}
