using MultiTeacher.Tests.Cli;
using static TorchSharp.torch;

namespace MultiTeacher.Tests.Merging;

[Trait("Category", TestCategory.Unit)]
public class MergeBadInputTests : TempDirectoryTest
{
    private string Linear(string a, string b) => MergeFixtures.WriteConfig(TempDir, $"""
        merge_method: linear
        models:
          - model: {a}
            parameters:
              weight: 0.5
          - model: {b}
            parameters:
              weight: 0.5
        """);

    /// <summary>Runs the merge, expects exit 2 with the message, and no output (finished or partial) left behind.</summary>
    private void ExpectRejected(string config, string message)
    {
        var output = Path.Combine(TempDir, "out");
        var (code, _, stderr) = CliRunner.Run("", "merge", config, output);
        Assert.Equal(2, code);
        Assert.Contains(message, stderr);
        Assert.DoesNotContain("   at ", stderr);
        Assert.False(Directory.Exists(output));
        Assert.Empty(Directory.GetDirectories(TempDir, ".out.partial-*"));
    }

    [Fact]
    public void Different_shapes_name_the_tensor()
    {
        var a = MergeFixtures.SaveTiny(TempDir, "a", 1);
        var b = MergeFixtures.SaveTiny(TempDir, "b", 2, hidden: 32);
        ExpectRejected(Linear(a, b), "shape [");
        ExpectRejected(Linear(a, b), "differs from");
    }

    [Fact]
    public void Different_vocabularies_demand_a_transplant()
    {
        var a = MergeFixtures.SaveTiny(TempDir, "a", 1);
        var b = MergeFixtures.SaveTiny(TempDir, "b", 2, vocab: 400);
        ExpectRejected(Linear(a, b),
            $"'{a}' and '{b}' have different vocabularies (320 vs 400 embedding rows): give them one vocabulary first with `mt transplant --model {b} --tokenizer {a} --out DIR` and merge that");
    }

    [Fact]
    public void Different_architectures_are_named()
    {
        var a = MergeFixtures.SaveTiny(TempDir, "a", 1);
        var b = MergeFixtures.SaveTiny(TempDir, "b", 2, family: "mistral");
        ExpectRejected(Linear(a, b), $"different architectures: '{a}' is llama, '{b}' is mistral");
    }

    [Fact]
    public void A_missing_tensor_is_named()
    {
        var a = MergeFixtures.SaveTiny(TempDir, "a", 1);
        var b = MergeFixtures.SaveTiny(TempDir, "b", 2);
        MergeFixtures.Edit(b, "model.layers.1.mlp.up_proj.weight", _ => null);
        ExpectRejected(Linear(a, b), $"tensor 'model.layers.1.mlp.up_proj.weight' is missing from '{b}'");
    }

    [Theory]
    [InlineData("linear", "model.norm.weight", 3)]
    [InlineData("ties", "model.norm.weight", 3)]
    [InlineData("task_arithmetic", "model.norm.weight", 3)]
    [InlineData("ties", "model.embed_tokens.weight", 12_345)]
    [InlineData("task_arithmetic", "model.embed_tokens.weight", 12_345)]
    public void NaN_in_a_source_is_rejected_without_leaving_output(string method, string tensor, long entry)
    {
        var a = MergeFixtures.SaveTiny(TempDir, "a", 1);
        var b = MergeFixtures.SaveTiny(TempDir, "b", 2);
        // model.norm.weight is the last tensor written, so earlier tensors are already in the partial
        // output when it fails; the embedding is the first.
        MergeFixtures.Edit(b, tensor, t => t.reshape(-1).index_put_(float.NaN, TensorIndex.Single(entry)).reshape(t.shape));
        var density = method == "ties" ? "\n      density: 0.5" : "";
        var config = method == "linear" ? Linear(a, b) : MergeFixtures.WriteConfig(TempDir, $"""
            merge_method: {method}
            base_model: {a}
            models:
              - model: {b}
                parameters:
                  weight: 0.5{density}
            """);
        ExpectRejected(config, $"tensor '{tensor}' of '{b}' contains NaN or Inf");
    }

    [Fact]
    public void A_truncated_shard_is_rejected()
    {
        var a = MergeFixtures.SaveTiny(TempDir, "a", 1);
        var b = MergeFixtures.SaveTiny(TempDir, "b", 2);
        var file = Path.Combine(b, "model.safetensors");
        using (var stream = File.Open(file, FileMode.Open)) stream.SetLength(stream.Length - 1000);
        ExpectRejected(Linear(a, b), "truncated");
    }

    [Fact]
    public void An_existing_output_directory_is_left_alone()
    {
        var a = MergeFixtures.SaveTiny(TempDir, "a", 1);
        var output = Directory.CreateDirectory(Path.Combine(TempDir, "out")).FullName;
        File.WriteAllText(Path.Combine(output, "keep.txt"), "mine");
        var (code, _, stderr) = CliRunner.Run("", "merge", Linear(a, a), output);
        Assert.Equal(2, code);
        Assert.Contains("already exists", stderr);
        Assert.Equal("mine", File.ReadAllText(Path.Combine(output, "keep.txt")));
    }
}
