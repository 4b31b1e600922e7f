using System.Text.Json.Nodes;
using MultiTeacher.Tests.Integration;
using Xunit.Abstractions;
using YamlDotNet.Serialization;

namespace MultiTeacher.Tests.Reliability;

/// <summary>
/// Structure-aware fuzzing through the real CLI: 200 mutations each of a valid tokenizer.json and a
/// valid recipe (fixed seeds), every one of which must end with exit 0 or 2, in time, without a trace.
/// </summary>
[Trait("Category", TestCategory.Unit)]
public sealed class FuzzTests(ITestOutputHelper output) : TempDirectoryTest
{
    private const int Cases = 200;

    [Fact]
    public void MutatedTokenizerJson_AlwaysLoadsOrIsRefusedCleanly()
    {
        var tally = new HostileTally(output);
        var valid = HostileFiles.Tokenizer();
        var baseline = Hostile.Cli("Hello the world\n", "tokenize", "--tokenizer", HostileFiles.TokenizerDir(TempDir, "valid", valid.ToJsonString()));
        Assert.True(baseline.ExitCode == 0, baseline.ToString());
        var mutator = new Mutator(seed: 19);
        for (var i = 0; i < Cases; i++)
        {
            var mutated = mutator.Mutate(valid);
            var dir = HostileFiles.TokenizerDir(TempDir, $"tok-{i}", mutated.ToJsonString());
            tally.Add("fuzz tokenizer.json", $"#{i} {mutator.Last}", Hostile.Cli("Hello the world\n", "tokenize", "--tokenizer", dir));
            Directory.Delete(dir, recursive: true);
        }
        tally.Report();
    }

    [Fact]
    public void MutatedRecipe_AlwaysChecksOrIsRefusedCleanly()
    {
        var tally = new HostileTally(output);
        var runs = new TinyRuns(TempDir);
        runs.WriteData(trainDocuments: 1, trainChars: 500);
        var teacher = runs.WriteTeacher("t", "llama", "llama3", 128256, seed: 3);
        var recipe = new JsonObject
        {
            ["name"] = "fuzz",
            ["seed"] = 1,
            ["data"] = new JsonObject { ["train"] = "train.txt", ["eval"] = "eval.txt", ["seq_len"] = 32 },
            ["teachers"] = new JsonArray(new JsonObject { ["name"] = "t", ["path"] = teacher, ["weight"] = 1.0 }),
            ["student"] = new JsonObject { ["config"] = runs.WriteConfig("s", "mistral", 32000), ["tokenizer"] = TestAssets.TokenizerDir("mistral-7b-v0.1") },
            ["alignment"] = new JsonObject { ["top_k"] = 8 },
            ["mixing"] = new JsonObject { ["policy"] = "confidence" },
            ["loss"] = new JsonObject { ["temperature"] = 2.0 },
            ["train"] = new JsonObject { ["steps"] = 4, ["batch_size"] = 2, ["lr"] = 0.001, ["warmup_steps"] = 1 },
            ["eval"] = new JsonObject { ["max_bytes"] = 1000 },
            ["output"] = "out/fuzz",
        };
        var file = Path.Combine(TempDir, "fuzz.yaml");
        File.WriteAllText(file, Yaml(recipe));
        var baseline = Hostile.Cli("", "recipe", "check", file);
        Assert.True(baseline.ExitCode == 0, baseline.ToString());
        var mutator = new Mutator(seed: 20);
        for (var i = 0; i < Cases; i++)
        {
            var mutated = mutator.Mutate(recipe);
            // Half as block YAML, half as JSON (flow YAML); every tenth also repeats a top-level key.
            var text = i % 2 == 0 ? Yaml(mutated) : mutated.ToJsonString();
            if (i % 10 == 0 && i % 2 == 0) text += "\ntrain: { steps: 1 }\n";
            File.WriteAllText(file, text);
            tally.Add("fuzz recipe", $"#{i} {mutator.Last}", Hostile.Cli("", "recipe", "check", file));
        }
        tally.Report();
    }

    private static string Yaml(JsonNode node) => new SerializerBuilder().WithMaximumRecursion(1000).Build().Serialize(Plain(node));

    private static object? Plain(JsonNode? node) => node switch
    {
        JsonObject o => o.ToDictionary(kv => kv.Key, kv => Plain(kv.Value)),
        JsonArray a => a.Select(Plain).ToList(),
        JsonValue v when v.GetValueKind() == System.Text.Json.JsonValueKind.String => v.GetValue<string>(),
        JsonValue v when v.GetValueKind() is System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False => v.GetValue<bool>(),
        JsonValue v => long.TryParse(v.ToJsonString(), out var l) ? l : double.Parse(v.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture),
        _ => null,
    };
}
