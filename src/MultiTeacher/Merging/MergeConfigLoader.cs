using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace MultiTeacher.Merging;

/// <summary>
/// Reads mergekit's YAML merge configuration (models or slices, base_model, merge_method,
/// parameters with gradients and filters, dtype, out_dtype, tokenizer_source). Every unknown or
/// unsupported key is an error naming file, line and key; all errors are reported together.
/// </summary>
public static partial class MergeConfigLoader
{
    private static readonly string[] RootKeys = ["merge_method", "base_model", "models", "slices", "parameters", "dtype", "out_dtype", "tokenizer_source"];
    private static readonly Dictionary<string, string> DTypes = new()
    {
        ["float32"] = "F32", ["float16"] = "F16", ["bfloat16"] = "BF16", ["fp32"] = "F32", ["fp16"] = "F16", ["bf16"] = "BF16",
    };

    public static MergeConfig Load(string path)
    {
        var file = Path.GetFullPath(path);
        if (!File.Exists(file)) throw new MergeException($"{file}: merge configuration not found");
        var text = File.ReadAllText(file);
        var yaml = new YamlStream();
        try { yaml.Load(new StringReader(text)); }
        catch (YamlException e) { throw new MergeException($"{file}:{e.Start.Line}:{e.Start.Column}: not valid YAML: {e.InnerException?.Message ?? e.Message}"); }
        if (yaml.Documents.Count != 1 || yaml.Documents[0].RootNode is not YamlMappingNode root)
            throw new MergeException($"{file}:1:1: a merge configuration is one YAML mapping");
        var reader = new Reader(file);
        var config = reader.Config(root, text);
        if (reader.Errors.Count > 0) throw new MergeException(string.Join(Environment.NewLine, reader.Errors));
        return config!;
    }

    private sealed partial class Reader(string file)
    {
        public List<string> Errors { get; } = [];
        private MergeMethodSpec _method = MergeMethodSpec.Of(MergeMethodKind.Linear);

        private void Error(YamlNode node, string message) => Errors.Add($"{file}:{node.Start.Line}:{node.Start.Column}: {message}");

        private void RejectUnknown(YamlMappingNode map, string where, params string[] known)
        {
            foreach (var key in map.Children.Keys)
                if (key is not YamlScalarNode { Value: { } name } || !known.Contains(name))
                    Error(key, $"unknown or unsupported key '{key}' in {where} (supported: {string.Join(", ", known)})");
        }

        private static YamlNode? Node(YamlMappingNode map, string key) => map.Children.TryGetValue(new YamlScalarNode(key), out var n) ? n : null;

        private string? Scalar(YamlMappingNode map, string key)
        {
            switch (Node(map, key))
            {
                case null: return null;
                case YamlScalarNode { Value: { } v }: return v;
                case var other: Error(other, $"'{key}' must be a single value"); return null;
            }
        }

        public MergeConfig? Config(YamlMappingNode root, string text)
        {
            RejectUnknown(root, "the merge configuration", RootKeys);
            var methodName = Scalar(root, "merge_method");
            if (methodName is null) Error(root, "missing required key 'merge_method'");
            else if (MergeMethodSpec.All.FirstOrDefault(m => m.Name == methodName) is { } spec) _method = spec;
            else { Error(Node(root, "merge_method")!, $"merge_method '{methodName}' is not supported (supported: {string.Join(", ", MergeMethodSpec.All.Select(m => m.Name))})"); return null; }

            var baseModel = Node(root, "base_model") is { } b ? ModelPath(b) : null;
            var parameters = Parameters(root, global: true);
            var dtype = DType(root, "dtype");
            var outDtype = DType(root, "out_dtype") ?? dtype;
            string? tokenizerSource = null;
            if (Scalar(root, "tokenizer_source") is { } source)
                tokenizerSource = source == "base" ? baseModel ?? Fail(root, "tokenizer_source: base needs a base_model")
                    : source == "union" ? Fail(Node(root, "tokenizer_source")!, "tokenizer_source: union is not supported (give the models one vocabulary with `mt transplant`)")
                    : ModelPath(Node(root, "tokenizer_source")!);

            var slices = new List<MergeSlice>();
            var modelsNode = Node(root, "models");
            var slicesNode = Node(root, "slices");
            if ((modelsNode is null) == (slicesNode is null)) Error(root, "exactly one of 'models' or 'slices' must be given");
            else if (modelsNode is not null) slices.Add(FromModels(modelsNode, baseModel));
            else slices.AddRange(Slices(slicesNode!));

            if (_method.NeedsBase && baseModel is null) Error(root, $"merge_method {_method.Name} needs a base_model");
            var others = slices.SelectMany(s => s.Sources).Select(s => s.Model).Where(m => m != baseModel).Distinct().Count();
            if (_method.Kind == MergeMethodKind.Slerp && others != 1) Error(root, $"slerp merges exactly two models (the base and one other), got the base and {others}");
            if (_method.Kind == MergeMethodKind.ModelStock && others < 2) Error(root, $"model_stock needs at least two models besides the base, got {others}");
            return new MergeConfig(file, text, _method, baseModel, slices, parameters, outDtype, tokenizerSource);
        }

        private string? Fail(YamlNode node, string message) { Error(node, message); return null; }

        private string? DType(YamlMappingNode map, string key)
        {
            if (Scalar(map, key) is not { } v) return null;
            if (DTypes.TryGetValue(v, out var d)) return d;
            Error(Node(map, key)!, $"'{key}' is '{v}', expected one of: float32, float16, bfloat16");
            return null;
        }

        /// <summary>A local model directory: relative to the working directory, else to the configuration's folder.</summary>
        private string ModelPath(YamlNode node)
        {
            if (node is not YamlScalarNode { Value: { Length: > 0 } raw }) { Error(node, "a model must be a directory path"); return ""; }
            if (raw.Contains('+')) { Error(node, $"model '{raw}': LoRA references (model+lora) are not supported"); return raw; }
            foreach (var candidate in new[] { Path.GetFullPath(raw), Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, raw)) })
                if (File.Exists(Path.Combine(candidate, "config.json"))) return candidate;
            Error(node, $"model '{raw}' is not a local model directory with a config.json (mt merge reads local Hugging Face directories)");
            return raw;
        }

        private MergeSlice FromModels(YamlNode node, string? baseModel)
        {
            var sources = new List<MergeSource>();
            if (node is not YamlSequenceNode list) { Error(node, "'models' must be a list"); return new MergeSlice(sources, Empty); }
            foreach (var item in list)
            {
                if (item is not YamlMappingNode entry) { Error(item, "each entry of 'models' must be a mapping with 'model'"); continue; }
                RejectUnknown(entry, "a model entry", "model", "parameters");
                if (Node(entry, "model") is not { } model) { Error(entry, "missing required key 'model'"); continue; }
                sources.Add(new MergeSource(ModelPath(model), null, Parameters(entry, global: false)));
            }
            if (baseModel is not null && sources.All(s => s.Model != baseModel)) sources.Add(new MergeSource(baseModel, null, Empty));
            return new MergeSlice(sources, Empty);
        }

        private IEnumerable<MergeSlice> Slices(YamlNode node)
        {
            if (node is not YamlSequenceNode list) { Error(node, "'slices' must be a list"); yield break; }
            foreach (var item in list)
            {
                if (item is not YamlMappingNode slice) { Error(item, "each slice must be a mapping with 'sources'"); continue; }
                RejectUnknown(slice, "a slice", "sources", "parameters");
                var sources = new List<MergeSource>();
                if (Node(slice, "sources") is not YamlSequenceNode sourceList) { Error(slice, "a slice needs a list 'sources'"); continue; }
                foreach (var s in sourceList)
                {
                    if (s is not YamlMappingNode source) { Error(s, "each source must be a mapping with 'model' and 'layer_range'"); continue; }
                    RejectUnknown(source, "a slice source", "model", "layer_range", "parameters");
                    if (Node(source, "model") is not { } model) { Error(source, "missing required key 'model'"); continue; }
                    sources.Add(new MergeSource(ModelPath(model), LayerRange(source), Parameters(source, global: false)));
                }
                var lengths = sources.Where(s => s.LayerRange is not null).Select(s => s.LayerRange!.Value.End - s.LayerRange.Value.Start).Distinct().ToList();
                if (lengths.Count > 1) Error(slice, $"all sources of a slice must span the same number of layers, got {string.Join(", ", lengths)}");
                yield return new MergeSlice(sources, Parameters(slice, global: true));
            }
        }

        private (int, int)? LayerRange(YamlMappingNode source)
        {
            var node = Node(source, "layer_range");
            if (node is null) { Error(source, "missing required key 'layer_range'"); return null; }
            if (node is YamlSequenceNode { Children.Count: 2 } pair && pair.Children.All(c => c is YamlScalarNode { Value: { } v } && int.TryParse(v, out _)))
            {
                var (start, end) = (int.Parse(((YamlScalarNode)pair[0]).Value!), int.Parse(((YamlScalarNode)pair[1]).Value!));
                if (start >= 0 && end > start) return (start, end);
            }
            Error(node, "'layer_range' must be [start, end) with 0 <= start < end");
            return null;
        }

        private static readonly IReadOnlyDictionary<string, ParameterSetting> Empty = new Dictionary<string, ParameterSetting>();

        private IReadOnlyDictionary<string, ParameterSetting> Parameters(YamlMappingNode owner, bool global)
        {
            var result = new Dictionary<string, ParameterSetting>();
            if (Node(owner, "parameters") is not { } node) return result;
            if (node is not YamlMappingNode map) { Error(node, "'parameters' must be a mapping"); return result; }
            var known = global ? _method.Known.ToArray() : _method.ModelParameters.Keys.ToArray();
            RejectUnknown(map, $"parameters of {_method.Name}{(global ? "" : " for one model")}", known);
            foreach (var (key, value) in map.Children)
                if (key is YamlScalarNode { Value: { } name } && known.Contains(name) && Setting(name, value) is { } setting)
                    result[name] = setting;
            return result;
        }
    }
}
