using System.Text.Json.Nodes;
using MultiTeacher.Alignment;
using MultiTeacher.Data;
using MultiTeacher.Evaluation;
using MultiTeacher.Losses;
using MultiTeacher.Mixing;
using MultiTeacher.Recipes;
using YamlDotNet.RepresentationModel;

namespace MultiTeacher.Tests.Recipes;

/// <summary>The settings declarations drive defaults, the resolved YAML and the JSON Schema alike.</summary>
[Trait("Category", TestCategory.Unit)]
public sealed class RecipeSchemaTests : RecipeTestFiles
{
    [Fact]
    public void Defaults_AreTheDocumentedOnes()
    {
        var r = RecipeLoader.Load(Write(WithTeacher()));
        Assert.Equal((0L, "auto", 0, false), (r.Seed, r.Device, r.Threads, r.Deterministic));
        Assert.Equal((DataFormat.Auto, "text", 128, true, (string?)null), (r.Data.Format, r.Data.Field, r.Data.SequenceLength, r.Data.Packing, r.Data.Eval));
        Assert.Equal((1.0, TeacherDType.Float32), (r.Teachers[0].Weight, r.Teachers[0].DType));
        Assert.Equal((ProjectionMethod.FirstToken, 64, TailTreatment.Bucket), (r.Alignment.Method, r.Alignment.TopK, r.Alignment.Tail));
        Assert.Equal((MixingPolicyKind.Confidence, 1.0, MixingGranularity.Sequence), (r.Mixing.Policy, r.Mixing.Temperature, r.Mixing.Granularity));
        Assert.Equal((LossKind.ForwardKl, 1.0, 0.5, 0.5), (r.Loss.Kind, r.Loss.Temperature, r.Loss.Beta, r.Loss.HardLabelWeight));
        Assert.Equal((100, 8, 1, 1e-3, 0, ScheduleKind.Cosine), (r.Train.Steps, r.Train.BatchSize, r.Train.GradAccum, r.Train.LearningRate, r.Train.WarmupSteps, r.Train.Schedule));
        Assert.Equal((0.01, 1.0, 0, 10, TeacherMode.Cached), (r.Train.WeightDecay, r.Train.Clip, r.Train.CheckpointEvery, r.Train.LogEvery, r.Train.TeacherMode));
        Assert.Equal((0, (string?)null), (r.Train.CacheShardTokens, r.CacheRoot));
        Assert.Equal((0, 200_000L), (r.Eval.Every, r.Eval.MaxBytes));
        Assert.Equal(Path.GetFullPath(Path.Combine("runs", "tiny")), r.Output);
    }

    [Fact]
    public void EnumValues_KeepTheirRecipeSpellings()
    {
        var r = RecipeLoader.Load(Write(WithTeacher("""
            alignment: { method: min_edit, tail: renormalize }
            mixing: { policy: avg_ce, granularity: token }
            loss: { kind: reverse_kl }
            train: { schedule: linear, teachers: online }
            """.Replace("\r", ""))));
        Assert.Equal((ProjectionMethod.MinEdit, TailTreatment.Renormalize), (r.Alignment.Method, r.Alignment.Tail));
        Assert.Equal((MixingPolicyKind.AvgCe, false), (r.Mixing.Policy, r.Mixing.PerSequence));
        Assert.Equal((LossKind.ReverseKl, ScheduleKind.Linear, TeacherMode.Online), (r.Loss.Kind, r.Train.Schedule, r.Train.TeacherMode));
    }

    [Fact]
    public void UnknownKey_InAnySection_SuggestsTheNearestDeclaredKey()
    {
        var e = Assert.Throws<RecipeException>(() => RecipeLoader.Load(Write(WithTeacher(
            "alignment: { topk: 8 }\nmixing: { polcy: uniform }\nteachers_: []\n"))));
        var messages = e.Errors.Select(x => x.Message).ToList();
        Assert.Contains(messages, m => m.StartsWith("unknown key 'topk' in alignment (did you mean 'top_k'?"));
        Assert.Contains(messages, m => m.StartsWith("unknown key 'polcy' in mixing (did you mean 'policy'?"));
        Assert.Contains(messages, m => m.StartsWith("unknown key 'teachers_' in the recipe (did you mean 'teachers'?"));
        Assert.All(e.Errors, x => Assert.True(x.Line > 0));
    }

    [Fact]
    public void EveryShippedRecipe_ReadsBackFromItsResolvedYaml_AsTheSameRecipe()
    {
        var files = Directory.GetFiles(Path.Combine(RecipeLoaderTests.RepoRoot(), "recipes"), "*.yaml", SearchOption.AllDirectories);
        // Pipelines read back through their own loader (PipelineLoaderTests).
        foreach (var file in files.Where(f => !MultiTeacher.Pipelines.PipelineLoader.IsPipeline(f)))
        {
            // Inputs made by `mt demo` or placeholders at real scale do not exist here; everything else must survive the trip.
            var first = RecipeLoader.Read(file, ["train.log_every=7"]);
            Assert.NotNull(first.Recipe);
            var yaml = ResolvedRecipe.ResolveExisting(first.Recipe).ToYaml();
            var back = RecipeLoader.ReadResolved(yaml, out var hashes);
            Assert.NotNull(back.Recipe);
            Assert.All(back.Errors, e => Assert.EndsWith("does not exist", e.Message));
            AssertSameRecipe(first.Recipe, back.Recipe);
            Assert.Equal(ResolvedRecipe.ResolveExisting(first.Recipe).Hashes.OrderBy(kv => kv.Key), hashes.OrderBy(kv => kv.Key));
            Assert.Equal(yaml, ResolvedRecipe.ResolveExisting(back.Recipe).ToYaml());
        }
    }

    [Fact]
    public void ResolvedYaml_QuotesStringsThatPlainYamlWouldChange()
    {
        var r = RecipeLoader.Load(Write(Minimal("data: { train: train.txt, format: jsonl, field: \"text: #1 'x'\" }\n").Replace("data: { train: train.txt }\n", "")));
        var back = RecipeLoader.LoadResolved(ResolvedRecipe.Resolve(r).ToYaml(), out _);
        Assert.Equal("text: #1 'x'", back.Data.Field);
        AssertSameRecipe(r, back);
    }

    [Fact]
    public void JsonSchema_DeclaresEveryKey_WithItsTypeDefaultAndChoices()
    {
        var schema = JsonNode.Parse(RecipeJsonSchema.Text())!;
        var root = schema["properties"]!;
        Assert.Equal(["name", "data", "student"], schema["required"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal(["name", "seed", "device", "threads", "deterministic", "data", "teachers", "student", "alignment", "mixing", "loss", "train", "eval", "output", "cache_root"],
            root.AsObject().Select(kv => kv.Key));
        var topK = root["alignment"]!["properties"]!["top_k"]!;
        Assert.Equal(("integer", 64, 1, 1024), (topK["type"]!.GetValue<string>(), topK["default"]!.GetValue<int>(), topK["minimum"]!.GetValue<int>(), topK["maximum"]!.GetValue<int>()));
        Assert.Equal(["exact", "first_token", "min_edit"], root["alignment"]!["properties"]!["method"]!["enum"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal(["weighted", "uniform", "confidence", "avg_ce", "min_ce", "product"], root["mixing"]!["properties"]!["policy"]!["enum"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal(["forward_kl", "reverse_kl", "jsd", "tv", "alm", "uld"], root["loss"]!["properties"]!["kind"]!["enum"]!.AsArray().Select(n => n!.GetValue<string>()));
        var lr = root["train"]!["properties"]!["lr"]!;
        Assert.Equal(("number", 1e-3, 0.0, 10.0), (lr["type"]!.GetValue<string>(), lr["default"]!.GetValue<double>(), lr["exclusiveMinimum"]!.GetValue<double>(), lr["maximum"]!.GetValue<double>()));
        Assert.Equal("array", root["teachers"]!["type"]!.GetValue<string>());
        Assert.Equal(["name", "path"], root["teachers"]!["items"]!["required"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal(200, root["name"]!["maxLength"]!.GetValue<int>());
        Assert.All(Walk(schema), p => Assert.False(string.IsNullOrWhiteSpace(p["description"]?.GetValue<string>())));
    }

    [Fact]
    public void EveryShippedRecipe_FitsTheJsonSchema()
    {
        var recipes = JsonNode.Parse(RecipeJsonSchema.Text())!;
        var pipelines = JsonNode.Parse(RecipeJsonSchema.Text(MultiTeacher.Pipelines.Pipeline.JsonSchema()))!;
        foreach (var file in Directory.GetFiles(Path.Combine(RecipeLoaderTests.RepoRoot(), "recipes"), "*.yaml", SearchOption.AllDirectories))
        {
            var yaml = new YamlStream();
            yaml.Load(new StringReader(File.ReadAllText(file)));
            var problems = new List<string>();
            Fits(yaml.Documents[0].RootNode, MultiTeacher.Pipelines.PipelineLoader.IsPipeline(file) ? pipelines : recipes, file, problems);
            Assert.True(problems.Count == 0, string.Join("\n", problems));
        }
    }

    /// <summary>A deliberately small JSON Schema check of YAML (objects, arrays, scalar types, enums, bounds), independent of the loader.</summary>
    private static void Fits(YamlNode node, JsonNode schema, string at, List<string> problems)
    {
        switch (schema["type"]!.GetValue<string>())
        {
            case "object" when node is YamlMappingNode map:
                var properties = schema["properties"]!.AsObject();
                foreach (var (key, value) in map.Children)
                    if (properties[key.ToString()] is { } p) Fits(value, p, $"{at}.{key}", problems);
                    else problems.Add($"{at}: '{key}' is not in the schema");
                foreach (var required in schema["required"]?.AsArray() ?? [])
                    if (!map.Children.ContainsKey(new YamlScalarNode(required!.GetValue<string>()))) problems.Add($"{at}: '{required}' missing");
                break;
            case "array" when node is YamlSequenceNode seq:
                foreach (var item in seq) Fits(item, schema["items"]!, $"{at}[]", problems);
                break;
            case var type when node is YamlScalarNode { Value: { } text }:
                var ok = type switch
                {
                    "integer" => long.TryParse(text, out var n) && n >= schema["minimum"]!.GetValue<long>() && n <= schema["maximum"]!.GetValue<long>(),
                    "number" => double.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var d) && d <= schema["maximum"]!.GetValue<double>()
                        && (schema["minimum"] is { } min ? d >= min.GetValue<double>() : d > schema["exclusiveMinimum"]!.GetValue<double>()),
                    "boolean" => text is "true" or "false",
                    _ => schema["enum"] is { } choices ? choices.AsArray().Any(c => c!.GetValue<string>() == text)
                        : text.Length <= schema["maxLength"]!.GetValue<int>() && (schema["pattern"] is not { } pattern || System.Text.RegularExpressions.Regex.IsMatch(text, pattern.GetValue<string>())),
                };
                if (!ok) problems.Add($"{at}: '{text}' does not fit {schema.ToJsonString()}");
                break;
            default:
                problems.Add($"{at}: expected {schema["type"]}");
                break;
        }
    }

    private static IEnumerable<JsonNode> Walk(JsonNode schema)
    {
        foreach (var (_, p) in schema["properties"]?.AsObject() ?? [])
        {
            yield return p!;
            foreach (var inner in Walk(p!["items"] ?? p)) yield return inner;
        }
    }

    internal static void AssertSameRecipe(Recipe expected, Recipe actual)
    {
        var none = (Teachers: Array.Empty<TeacherSettings>(), Overrides: Array.Empty<string>());
        Assert.Equal(expected with { Teachers = none.Teachers, Overrides = none.Overrides }, actual with { Teachers = none.Teachers, Overrides = none.Overrides });
        Assert.Equal(expected.Teachers, actual.Teachers);
        Assert.Equal(expected.Overrides, actual.Overrides);
    }
}
