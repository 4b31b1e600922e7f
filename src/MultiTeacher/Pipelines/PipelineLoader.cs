using System.Text.RegularExpressions;
using MultiTeacher.Merging;
using MultiTeacher.Recipes;
using MultiTeacher.Settings;
using YamlDotNet.RepresentationModel;

namespace MultiTeacher.Pipelines;

/// <summary>A pipeline as far as it could be read, and every problem found (file:line:column).</summary>
public sealed record PipelineReading(Pipeline? Pipeline, IReadOnlyList<RecipeError> Errors);

/// <summary>
/// Parses and validates pipeline YAML with the same settings reader as recipes: unknown keys,
/// types, limits and missing inputs by file:line:column, plus what only a pipeline has: stage
/// kinds and their sections, ${stages.NAME.output} references, and cycles. An embedded distill or
/// finetune recipe is read and checked as an ordinary recipe.
/// </summary>
public static partial class PipelineLoader
{
    [GeneratedRegex(@"\$\{stages\.([^}]*)\.output\}")]
    private static partial Regex Reference();

    /// <summary>True when the file is one YAML mapping with a 'stages' key: a pipeline, not a distillation recipe.</summary>
    public static bool IsPipeline(string path)
    {
        var file = Path.GetFullPath(path);
        if (!File.Exists(file) || new FileInfo(file).Length > RecipeLoader.MaxBytes) return false;
        return RecipeLoader.Load(File.ReadAllText(file), file) is YamlMappingNode root && root.Children.ContainsKey(new YamlScalarNode("stages"));
    }

    public static Pipeline Load(string path, IReadOnlyDictionary<string, string>? variables = null) => Valid(Read(path, variables));

    public static PipelineReading Read(string path, IReadOnlyDictionary<string, string>? variables = null)
    {
        var file = Path.GetFullPath(path);
        if (!File.Exists(file)) return new(null, [new RecipeError(file, 0, 0, "pipeline file not found")]);
        if (new FileInfo(file).Length > RecipeLoader.MaxBytes) return new(null, [new RecipeError(file, 0, 0, $"a pipeline is at most {RecipeLoader.MaxBytes / 1024} KB")]);
        return Parse(File.ReadAllText(file), file, resolved: false, variables);
    }

    /// <summary>Reads a pipeline as lineage stores it (<see cref="Pipeline.ToYaml"/>), with its recorded hashes.</summary>
    public static Pipeline LoadResolved(string yaml) => Valid(Parse(yaml, SourceOf(yaml), resolved: true, null));

    /// <summary>Reads one stage as its lineage run stores it (<see cref="Pipeline.StageYaml"/>), with its recorded hashes.</summary>
    public static (StageSettings Stage, IReadOnlyDictionary<string, string> Hashes) LoadResolvedStage(string yaml)
    {
        var file = SourceOf(yaml);
        if (RecipeLoader.Load(yaml, file) is not YamlMappingNode root) throw new RecipeException([new RecipeError(file, 1, 1, "a stage is one YAML mapping")]);
        var r = new SettingsReader(file);
        var stage = (StageSettings)r.Read(root, SettingsSchema.For<StageSettings>(), "the stage", ["hashes"]);
        var hashes = RecipeLoader.Hashes(r, root);
        return r.Errors.Count > 0 ? throw new RecipeException(r.Errors) : (stage, hashes);
    }

    private static string SourceOf(string yaml)
    {
        var first = yaml.AsSpan(0, Math.Max(0, yaml.IndexOf('\n')));
        return Path.GetFullPath(first.StartsWith(RecipeYaml.SourceHeader) ? first[RecipeYaml.SourceHeader.Length..].ToString() : "resolved pipeline");
    }

    private static Pipeline Valid(PipelineReading reading) => reading.Errors.Count > 0 ? throw new RecipeException(reading.Errors) : reading.Pipeline!;

    private static PipelineReading Parse(string text, string file, bool resolved, IReadOnlyDictionary<string, string>? variables)
    {
        if (RecipeLoader.Load(text, file) is not { } loaded) return new(null, [new RecipeError(file, 1, 1, "a pipeline is one YAML mapping")]);
        if (loaded is RecipeError error) return new(null, [error]);
        var root = (YamlMappingNode)loaded;
        var extra = resolved ? new[] { "hashes" } : null;

        // The stages' directories come from the pipeline's name and output: read once, errors reported by the full read below.
        var draft = (PipelineSettings)new SettingsReader(file, variables).Read(root, SettingsSchema.For<PipelineSettings>(), "the pipeline", extra);
        var output = draft.Output.Length > 0 ? draft.Output : Path.GetFullPath(Path.Combine("runs", draft.Name));
        var r = new SettingsReader(file, variables);
        var items = (r.Node(root, "stages") as YamlSequenceNode)?.Children.OfType<YamlMappingNode>().ToList() ?? [];
        var planned = Planned(r, items, output);
        r.Planned.UnionWith(planned.Values);
        foreach (var item in items) Substitute(r, item, planned, draft.Name, output);

        var settings = (PipelineSettings)r.Read(root, SettingsSchema.For<PipelineSettings>(), "the pipeline", extra) with { Source = file, Output = output };
        var stages = settings.Stages.Select((s, i) => i < items.Count ? PipelineRules.Stage(r, items[i], s, output, file) : s).ToList();
        settings = settings with { Stages = stages };
        PipelineRules.Names(r, items, stages);
        var dependencies = PipelineRules.Dependencies(stages, planned);
        var order = PipelineRules.Order(r, items, stages, dependencies);
        var hashes = resolved ? RecipeLoader.Hashes(r, root) : new Dictionary<string, string>();
        return new(new Pipeline(settings, dependencies, order, hashes), r.Errors);
    }

    /// <summary>Each named stage of a known kind, and what ${stages.NAME.output} stands for.</summary>
    private static Dictionary<string, string> Planned(SettingsReader r, IReadOnlyList<YamlMappingNode> items, string output)
    {
        var planned = new Dictionary<string, string>();
        foreach (var item in items)
            if (r.Node(item, "name") is YamlScalarNode { Value: { } name } && r.Node(item, "kind") is YamlScalarNode { Value: { } kind }
                && SettingNames.TryParse(typeof(PipelineStageKind), kind, out var k) && Regex.IsMatch(name, RecipeNames.Pattern))
                planned.TryAdd(name, Pipeline.OutputOf(output, name, (PipelineStageKind)k));
        return planned;
    }

    /// <summary>
    /// Replaces ${stages.NAME.output} by that stage's output path, and gives an embedded recipe its
    /// stage's name and directory unless it names them itself.
    /// </summary>
    private static void Substitute(SettingsReader r, YamlMappingNode item, IReadOnlyDictionary<string, string> planned, string pipeline, string output)
    {
        var self = (r.Node(item, "name") as YamlScalarNode)?.Value ?? "";
        foreach (var (key, value) in item.Children)
            if (key.ToString() is not ("name" or "kind")) Walk(r, key.ToString(), value, planned, self);
        foreach (var kind in new[] { PipelineStageKind.Distill, PipelineStageKind.Finetune })
            if (r.Node(item, SettingNames.Of(kind)) is YamlMappingNode recipe && self.Length > 0)
            {
                recipe.Children.TryAdd(new YamlScalarNode("name"), new YamlScalarNode($"{pipeline}.{self}"));
                recipe.Children.TryAdd(new YamlScalarNode("output"), new YamlScalarNode(Pipeline.Directory(output, self)));
            }
    }

    private static void Walk(SettingsReader r, string key, YamlNode node, IReadOnlyDictionary<string, string> planned, string self)
    {
        switch (node)
        {
            case YamlScalarNode { Value: { } text } scalar when text.Contains("${stages.", StringComparison.Ordinal):
                scalar.Value = Reference().Replace(text, m =>
                {
                    var target = m.Groups[1].Value;
                    if (target == self) r.Error(scalar, $"'{key}' refers to its own stage '{target}'");
                    else if (planned.TryGetValue(target, out var path)) return path;
                    else r.Error(scalar, $"'{key}' refers to unknown stage '{target}' (stages: {string.Join(", ", planned.Keys)})");
                    return m.Value;
                });
                if (Reference().IsMatch(scalar.Value!) is false && scalar.Value!.Contains("${stages.", StringComparison.Ordinal))
                    r.Error(scalar, $"'{key}': write a stage's output as ${{stages.NAME.output}}");
                break;
            case YamlMappingNode map:
                foreach (var (k, v) in map.Children) Walk(r, k.ToString(), v, planned, self);
                break;
            case YamlSequenceNode seq:
                foreach (var v in seq.Children) Walk(r, key, v, planned, self);
                break;
        }
    }
}
