using MultiTeacher.Merging;
using MultiTeacher.Recipes;
using MultiTeacher.Settings;
using YamlDotNet.RepresentationModel;

namespace MultiTeacher.Pipelines;

/// <summary>The checks of a pipeline that relate several keys or stages: sections per kind, embedded recipes, names, dependencies and cycles.</summary>
internal static class PipelineRules
{
    private static readonly string[] Sections = SettingNames.All<PipelineStageKind>();

    /// <summary>Checks a stage's sections against its kind and its embedded recipe as a recipe; returns the stage with the recipe's defaults filled in.</summary>
    public static StageSettings Stage(SettingsReader r, YamlMappingNode item, StageSettings stage, string output, string file)
    {
        if (r.Node(item, "kind") is not YamlScalarNode { Value: { } kindName } || !Sections.Contains(kindName)) return stage;
        foreach (var section in Sections.Where(s => s != kindName))
            if (item.Children.Keys.FirstOrDefault(k => k.ToString() == section) is { } key)
                r.Error(key, $"stage '{stage.Name}' is a {kindName} stage: '{section}' belongs to a {section} stage (each stage has only its kind's section)");
        var node = r.Node(item, kindName);
        if (node is null) { r.Error(item, $"stage '{stage.Name}' of kind {kindName} needs a '{kindName}' section"); return stage; }
        if (node is not YamlMappingNode map || stage.Recipe is not { } recipe) return Merge(r, node, stage);

        recipe = RecipeRules.Check(r, map, recipe with { Source = file });
        var directory = Path.GetFullPath(Pipeline.Directory(output, stage.Name));
        if (recipe.Output != directory && r.Node(map, "output") is { } o)
            r.Error(o, $"'output' of stage '{stage.Name}' is its directory {directory}; leave it out");
        if (stage.Kind == PipelineStageKind.Finetune && recipe.Teachers.Count > 0 && r.Node(map, "teachers") is { } teachers)
            r.Error(teachers, $"a finetune stage trains on hard labels only: remove 'teachers' (or make '{stage.Name}' a distill stage)");
        return stage.Kind == PipelineStageKind.Distill ? stage with { Distill = recipe } : stage with { Finetune = recipe };
    }

    private static StageSettings Merge(SettingsReader r, YamlNode map, StageSettings stage)
    {
        if (stage.Merge is { } m && MergeMethodSpec.Of(m.Method).NeedsBase && m.BaseModel is null)
            r.Error(map, $"merge method {SettingNames.Of(m.Method)} needs 'base_model'");
        return stage;
    }

    /// <summary>Stage names are unique: they name directories, jobs and lineage runs.</summary>
    public static void Names(SettingsReader r, IReadOnlyList<YamlMappingNode> items, IReadOnlyList<StageSettings> stages)
    {
        for (var i = 1; i < stages.Count && i < items.Count; i++)
            if (stages[i].Name.Length > 0 && stages.Take(i).Any(s => s.Name == stages[i].Name))
                r.Error(r.Node(items[i], "name") ?? items[i], $"stage '{stages[i].Name}' is listed twice");
    }

    /// <summary>For each stage, the stages whose output it reads (an input at or under that output).</summary>
    public static Dictionary<string, IReadOnlyList<string>> Dependencies(IReadOnlyList<StageSettings> stages, IReadOnlyDictionary<string, string> planned)
    {
        var result = new Dictionary<string, IReadOnlyList<string>>();
        foreach (var stage in stages.DistinctBy(s => s.Name))
        {
            var inputs = Pipeline.Inputs(stage).Values.ToList();
            result[stage.Name] = planned.Where(p => p.Key != stage.Name && inputs.Any(i => Under(i, p.Value))).Select(p => p.Key).ToList();
        }
        return result;
    }

    private static bool Under(string path, string output) =>
        path == output || path.StartsWith(output + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    /// <summary>An order in which every stage follows the stages it reads (declaration order among the ready); a cycle is an error at each of its stages.</summary>
    public static IReadOnlyList<string> Order(SettingsReader r, IReadOnlyList<YamlMappingNode> items, IReadOnlyList<StageSettings> stages,
        IReadOnlyDictionary<string, IReadOnlyList<string>> dependencies)
    {
        var order = new List<string>();
        var left = stages.Select(s => s.Name).Distinct().ToList();
        while (left.FirstOrDefault(s => dependencies[s].All(order.Contains)) is { } ready)
        {
            order.Add(ready);
            left.Remove(ready);
        }
        foreach (var name in left)
        {
            var i = stages.ToList().FindIndex(s => s.Name == name);
            var cycle = Cycle(name, dependencies);
            if (cycle is null) continue;
            r.Error(i < items.Count ? r.Node(items[i], "name") ?? items[i] : items[0],
                $"stage '{name}' depends on itself through {string.Join(" → ", cycle)}: a pipeline has no cycles");
        }
        if (left.Count > 0 && left.All(n => Cycle(n, dependencies) is null) && items.Count > 0)
            r.Error(items[0], $"stages {string.Join(", ", left)} wait on a cycle");
        return order;
    }

    /// <summary>The path name → … → name through dependencies, or null when name is on no cycle.</summary>
    private static List<string>? Cycle(string name, IReadOnlyDictionary<string, IReadOnlyList<string>> dependencies)
    {
        var path = new List<string> { name };
        var seen = new HashSet<string>();
        return Search(name);

        List<string>? Search(string at)
        {
            foreach (var next in dependencies.GetValueOrDefault(at) ?? [])
            {
                if (next == name) return [.. path, name];
                if (!seen.Add(next)) continue;
                path.Add(next);
                if (Search(next) is { } found) return found;
                path.RemoveAt(path.Count - 1);
            }
            return null;
        }
    }
}
