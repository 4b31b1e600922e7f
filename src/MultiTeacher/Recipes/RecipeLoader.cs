using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;
using MultiTeacher.Mixing;
using MultiTeacher.Training;

namespace MultiTeacher.Recipes;

/// <summary>Parses and validates recipe YAML; throws <see cref="RecipeException"/> listing every problem with file:line:column.</summary>
public static class RecipeLoader
{
    public static readonly string[] Policies = ["weighted", "uniform", "confidence", "avg_ce", "min_ce", "product"];

    /// <param name="variables">Values of ${NAME} in paths, before the environment (default: MT_ASSETS is the asset cache).</param>
    public static Recipe Load(string path, IReadOnlyDictionary<string, string>? variables = null)
    {
        var file = System.IO.Path.GetFullPath(path);
        if (!File.Exists(file)) throw new RecipeException([new RecipeError(file, 0, 0, "recipe file not found")]);
        return Parse(File.ReadAllText(file), file, out _, variables: variables);
    }

    /// <summary>
    /// Reads a resolved recipe as lineage stores it (see <see cref="ResolvedRecipe.ToYaml"/>), returning
    /// the recorded input hashes with it; jobs and audits run exactly what was submitted.
    /// </summary>
    public static Recipe LoadResolved(string resolvedYaml, out IReadOnlyDictionary<string, string> hashes)
    {
        // Its first line names the file it was resolved from: errors point there, and Source stays that file.
        const string header = "# resolved from ";
        var first = resolvedYaml.AsSpan(0, Math.Max(0, resolvedYaml.IndexOf('\n')));
        var source = first.StartsWith(header) ? first[header.Length..].ToString() : "resolved recipe";
        return Parse(resolvedYaml, System.IO.Path.GetFullPath(source), out hashes, resolved: true);
    }

    private static Recipe Parse(string text, string file, out IReadOnlyDictionary<string, string> hashes, bool resolved = false,
        IReadOnlyDictionary<string, string>? variables = null)
    {
        var yaml = new YamlStream();
        try { yaml.Load(new StringReader(text)); }
        catch (YamlException e) { throw new RecipeException([new RecipeError(file, e.Start.Line, e.Start.Column, $"not valid YAML: {e.InnerException?.Message ?? e.Message}")]); }
        if (yaml.Documents.Count != 1 || yaml.Documents[0].RootNode is not YamlMappingNode root)
            throw new RecipeException([new RecipeError(file, 1, 1, "a recipe is one YAML mapping")]);

        var r = new RecipeReader(file, variables ?? new Dictionary<string, string> { ["MT_ASSETS"] = Assets.AssetStore.DefaultRoot() });
        string[] keys = ["name", "seed", "device", "threads", "deterministic", "data", "teachers", "student", "alignment", "mixing", "loss", "train", "eval", "output"];
        r.RejectUnknown(root, "the recipe", resolved ? [.. keys, "hashes"] : keys);
        hashes = resolved ? Hashes(r, root) : new Dictionary<string, string>();
        var name = r.String(root, "name", required: true) ?? "recipe";
        var seed = r.Integer(root, "seed", 0, min: 0);
        var device = r.String(root, "device", "auto", oneOf: ["auto", "cpu", "cuda"])!;
        var threads = (int)r.Integer(root, "threads", 0, min: 0, max: 1024);
        var deterministic = r.Boolean(root, "deterministic", false);
        // On CPU, TorchSharp's kernels give identical results for a fixed thread count, which is what a replay needs.
        if (deterministic && threads == 0) r.Error(r.Node(root, "deterministic")!, "a deterministic run needs a fixed thread count: add 'threads: N'");
        var data = Data(r, r.Section(root, "data", required: true) ?? new YamlMappingNode());
        var teachers = Teachers(r, root);
        var student = Student(r, r.Section(root, "student", required: true) ?? new YamlMappingNode());
        var alignment = Alignment(r, r.Section(root, "alignment") ?? new YamlMappingNode());
        var mixing = MixingSection(r, r.Section(root, "mixing") ?? new YamlMappingNode(), teachers, root);
        var loss = Loss(r, r.Section(root, "loss") ?? new YamlMappingNode(), teachers.Count);
        var train = Train(r, r.Section(root, "train") ?? new YamlMappingNode());
        var evalMap = r.Section(root, "eval") ?? new YamlMappingNode();
        r.RejectUnknown(evalMap, "eval", "every", "max_bytes");
        var eval = new EvalSpec((int)r.Integer(evalMap, "every", 0, min: 0), r.Integer(evalMap, "max_bytes", 200_000, min: 1));
        var output = r.Path(root, "output", required: false, mustExist: false) ?? System.IO.Path.GetFullPath(System.IO.Path.Combine("runs", name));

        if (r.Errors.Count > 0) throw new RecipeException(r.Errors);
        return new Recipe(file, name, seed, device, data, teachers, student, alignment, mixing, loss, train, eval, output, threads, deterministic);
    }

    private static Dictionary<string, string> Hashes(RecipeReader r, YamlMappingNode root)
    {
        var hashes = new Dictionary<string, string>();
        if (r.Section(root, "hashes") is not { } map) return hashes;
        foreach (var (key, value) in map.Children)
            if (value is YamlScalarNode { Value: { } v } && v.StartsWith("sha256:", StringComparison.Ordinal)) hashes[key.ToString()] = v["sha256:".Length..];
            else r.Error(value, $"hash of '{key}' must read sha256:HEX");
        return hashes;
    }

    private static DataSpec Data(RecipeReader r, YamlMappingNode map)
    {
        r.RejectUnknown(map, "data", "train", "eval", "format", "field", "seq_len", "packing");
        return new DataSpec(
            r.Path(map, "train", required: true) ?? "",
            r.Path(map, "eval", required: false),
            r.String(map, "format", "auto", oneOf: ["auto", "text", "jsonl", "brown"])!,
            r.String(map, "field", "text")!,
            (int)r.Integer(map, "seq_len", 128, min: 8, max: 1 << 16),
            r.Boolean(map, "packing", true));
    }

    private static List<TeacherSpec> Teachers(RecipeReader r, YamlMappingNode root)
    {
        var teachers = new List<TeacherSpec>();
        switch (r.Node(root, "teachers"))
        {
            case null: return teachers;
            case YamlSequenceNode seq:
                foreach (var item in seq)
                {
                    if (item is not YamlMappingNode t) { r.Error(item, "each teacher is a mapping with name and path"); continue; }
                    r.RejectUnknown(t, "a teacher", "name", "path", "weight", "dtype");
                    var spec = new TeacherSpec(r.String(t, "name", required: true) ?? "", r.Path(t, "path", required: true) ?? "",
                        r.Number(t, "weight", 1.0, min: 0), r.String(t, "dtype", "float32", oneOf: ["float32", "bfloat16", "float16"])!);
                    if (teachers.Any(o => o.Name == spec.Name)) r.Error(t, $"teacher '{spec.Name}' is listed twice");
                    else if (spec.Path.Length > 0 && teachers.Any(o => o.Path == spec.Path)) r.Error(t, $"teacher path {spec.Path} is listed twice");
                    teachers.Add(spec);
                }
                return teachers;
            case var other:
                r.Error(other, "'teachers' must be a list");
                return teachers;
        }
    }

    private static StudentSpec Student(RecipeReader r, YamlMappingNode map)
    {
        r.RejectUnknown(map, "student", "init", "config", "tokenizer");
        var s = new StudentSpec(r.Path(map, "init", required: false), r.Path(map, "config", required: false), r.Path(map, "tokenizer", required: false));
        if ((s.Init is null) == (s.Config is null))
            r.Error(map, "student needs exactly one of 'init' (a model directory) or 'config' (a config.json, with 'tokenizer')");
        if (s.Config is not null && s.Tokenizer is null) r.Error(map, "a student built from 'config' needs 'tokenizer' (a tokenizer directory)");
        return s;
    }

    private static AlignmentSpec Alignment(RecipeReader r, YamlMappingNode map)
    {
        r.RejectUnknown(map, "alignment", "method", "top_k", "tail");
        return new AlignmentSpec(r.String(map, "method", "first_token", oneOf: MultiTeacher.Alignment.ProjectionMethods.Names)!,
            (int)r.Integer(map, "top_k", 64, min: 1, max: 1024), r.String(map, "tail", "bucket", oneOf: ["bucket", "renormalize"])!);
    }

    private static MixingSpec MixingSection(RecipeReader r, YamlMappingNode map, List<TeacherSpec> teachers, YamlMappingNode root)
    {
        r.RejectUnknown(map, "mixing", "policy", "temperature", "granularity");
        var spec = new MixingSpec(r.String(map, "policy", "confidence", oneOf: Policies)!,
            r.Number(map, "temperature", 1.0, min: 0, exclusiveMin: true), r.String(map, "granularity", "sequence", oneOf: ["sequence", "token"])!);
        if (spec.Policy is "weighted" or "product" && teachers.Count > 0 && teachers.All(t => t.Weight == 0))
            r.Error(r.Node(root, "teachers")!, $"every teacher has weight 0, so the '{spec.Policy}' policy has nothing to blend");
        return spec;
    }

    private static LossSpec Loss(RecipeReader r, YamlMappingNode map, int teacherCount)
    {
        r.RejectUnknown(map, "loss", "kind", "temperature", "beta", "hard_label_weight");
        var spec = new LossSpec(r.String(map, "kind", "forward_kl", oneOf: DistillationLoss.Kinds)!,
            r.Number(map, "temperature", 1.0, min: 0, exclusiveMin: true), r.Number(map, "beta", 0.5, min: 0, max: 1),
            r.Number(map, "hard_label_weight", teacherCount == 0 ? 1.0 : 0.5, min: 0, max: 1));
        if (teacherCount == 0 && spec.HardLabelWeight != 1.0 && r.Node(map, "hard_label_weight") is { } node)
            r.Error(node, "without teachers only the hard label trains: hard_label_weight must be 1");
        return spec;
    }

    private static TrainSpec Train(RecipeReader r, YamlMappingNode map)
    {
        r.RejectUnknown(map, "train", "steps", "batch_size", "grad_accum", "lr", "warmup_steps", "schedule", "weight_decay", "clip",
            "checkpoint_every", "log_every", "teachers");
        var spec = new TrainSpec((int)r.Integer(map, "steps", 100, min: 1), (int)r.Integer(map, "batch_size", 8, min: 1),
            (int)r.Integer(map, "grad_accum", 1, min: 1), r.Number(map, "lr", 1e-3, min: 0, exclusiveMin: true),
            (int)r.Integer(map, "warmup_steps", 0, min: 0), r.String(map, "schedule", "cosine", oneOf: ["cosine", "linear", "constant"])!,
            r.Number(map, "weight_decay", 0.01, min: 0), r.Number(map, "clip", 1.0, min: 0), (int)r.Integer(map, "checkpoint_every", 0, min: 0),
            (int)r.Integer(map, "log_every", 10, min: 1), r.String(map, "teachers", "cached", oneOf: ["cached", "online"])!);
        if (spec.WarmupSteps > spec.Steps && r.Node(map, "warmup_steps") is { } node)
            r.Error(node, $"warmup_steps {spec.WarmupSteps} exceeds steps {spec.Steps}");
        return spec;
    }

    /// <summary>The recipe's mixing settings for <see cref="MixingPolicy.Create"/>.</summary>
    public static MixingSettings MixingSettings(this Recipe recipe) =>
        new(recipe.Mixing.Policy, recipe.Mixing.Temperature, recipe.Mixing.Granularity == "sequence");
}
