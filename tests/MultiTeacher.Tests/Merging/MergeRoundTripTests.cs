using MultiTeacher.Models;
using MultiTeacher.Tests.Cli;
using MultiTeacher.Tests.Models;
using static TorchSharp.torch;

namespace MultiTeacher.Tests.Merging;

[Trait("Category", TestCategory.Unit)]
public class MergeRoundTripTests : TempDirectoryTest
{
    private string TiesConfig(string a, string b, string c) => MergeFixtures.WriteConfig(TempDir, $"""
        merge_method: ties
        base_model: {a}
        models:
          - model: {b}
            parameters:
              weight: 0.6
              density: 0.5
          - model: {c}
            parameters:
              weight: [0.2, 0.8]
              density: 0.7
        dtype: bfloat16
        """);

    [Fact]
    public void A_ties_merge_of_tiny_models_loads_with_our_loader_and_generates()
    {
        var (a, b, c) = (MergeFixtures.SaveTiny(TempDir, "a", 1), MergeFixtures.SaveTiny(TempDir, "b", 2), MergeFixtures.SaveTiny(TempDir, "c", 3));
        var output = Path.Combine(TempDir, "out");
        var (code, stdout, stderr) = CliRunner.Run("", "merge", TiesConfig(a, b, c), output);
        Assert.True(code == 0, stderr);
        Assert.Contains("with ties", stdout);
        using var merged = PretrainedModel.Load(output);
        var generated = TextGenerator.Generate(merged, [1, 2, 3], 5, 0, 0, null);
        Assert.Equal(5, generated.Length);
        Assert.Contains("seed: 0", File.ReadAllText(Path.Combine(output, "README.md")));
        Assert.True(File.Exists(Path.Combine(output, "mergekit_config.yml")));
        Assert.True(File.Exists(Path.Combine(output, "generation_config.json")));
        Assert.Equal("bfloat16", ModelConfig.FromPretrained(output).TorchDtype);
    }

    [Fact]
    public void Linear_merge_of_identical_models_reproduces_the_model()
    {
        var a = MergeFixtures.SaveTiny(TempDir, "a", 1);
        var copy = Path.Combine(TempDir, "copy");
        Directory.CreateDirectory(copy);
        foreach (var f in Directory.GetFiles(a)) File.Copy(f, Path.Combine(copy, Path.GetFileName(f)));
        var config = MergeFixtures.WriteConfig(TempDir, $"""
            merge_method: linear
            models:
              - model: {a}
                parameters:
                  weight: 0.3
              - model: {copy}
                parameters:
                  weight: 0.7
            """);
        var output = Path.Combine(TempDir, "out");
        Assert.Equal(0, CliRunner.Run("", "merge", config, output).ExitCode);
        var (expected, actual) = (MergeFixtures.Weights(a), MergeFixtures.Weights(output));
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, t) in expected) Assert.True(t.allclose(actual[name], rtol: 1e-6, atol: 1e-7), name);
    }

    [Fact]
    public void Sharded_output_equals_the_single_file_output_and_re_merges_equal()
    {
        var (a, b, c) = (MergeFixtures.SaveTiny(TempDir, "a", 1), MergeFixtures.SaveTiny(TempDir, "b", 2), MergeFixtures.SaveTiny(TempDir, "c", 3));
        var config = TiesConfig(a, b, c);
        var single = Path.Combine(TempDir, "single");
        Assert.Equal(0, CliRunner.Run("", "merge", config, single).ExitCode);
        // Tiny models are ~100 KB, below the CLI's smallest shard size of 1 MB: split them at 20 KB.
        var finer = Path.Combine(TempDir, "finer");
        var run = MultiTeacher.Merging.ModelMerger.Run(MultiTeacher.Merging.MergeConfigLoader.Load(config), finer,
            new MultiTeacher.Merging.MergeOptions(MaxShardBytes: 20_000));
        Assert.True(run.Shards > 3);
        Assert.True(File.Exists(Path.Combine(finer, "model.safetensors.index.json")));
        var reference = MergeFixtures.Weights(single);
        foreach (var (name, t) in MergeFixtures.Weights(finer)) Assert.True(TinyModels.Identical(t, reference[name]), name);

        var again = MergeFixtures.WriteConfig(TempDir, $"""
            merge_method: linear
            models:
              - model: {finer}
                parameters:
                  weight: 1
            """, "again.yaml");
        var remerged = Path.Combine(TempDir, "remerged");
        Assert.Equal(0, CliRunner.Run("", "merge", again, remerged).ExitCode);
        foreach (var (name, t) in MergeFixtures.Weights(remerged)) Assert.True(TinyModels.Identical(t, reference[name]), name);
    }

    [Fact]
    public void Dare_is_reproducible_from_its_seed_and_differs_across_seeds()
    {
        var (a, b, c) = (MergeFixtures.SaveTiny(TempDir, "a", 1), MergeFixtures.SaveTiny(TempDir, "b", 2), MergeFixtures.SaveTiny(TempDir, "c", 3));
        var config = MergeFixtures.WriteConfig(TempDir, $"""
            merge_method: dare_ties
            base_model: {a}
            models:
              - model: {b}
                parameters:
                  weight: 0.5
                  density: 0.5
              - model: {c}
                parameters:
                  weight: 0.5
                  density: 0.5
            """);
        string Merge(string name, string seed)
        {
            var dir = Path.Combine(TempDir, name);
            Assert.Equal(0, CliRunner.Run("", "merge", config, dir, "--seed", seed).ExitCode);
            return dir;
        }
        var (first, again, other) = (MergeFixtures.Weights(Merge("s7", "7")), MergeFixtures.Weights(Merge("s7b", "7")), MergeFixtures.Weights(Merge("s8", "8")));
        const string name = "model.layers.0.mlp.up_proj.weight";
        Assert.True(TinyModels.Identical(first[name], again[name]));
        Assert.False(TinyModels.Identical(first[name], other[name]));
        Assert.Contains("seed: 7", File.ReadAllText(Path.Combine(TempDir, "s7", "README.md")));
    }
}
