using System.Runtime.InteropServices;
using MultiTeacher.Checkpoints;
using MultiTeacher.Merging;
using MultiTeacher.Tests.Models;
using static TorchSharp.torch;

namespace MultiTeacher.Tests.Merging;

[Trait("Category", TestCategory.Unit)]
public class RowBlockMergeTests : TempDirectoryTest
{
    /// <summary>Every method (the fine-tuned models' parameters and any global ones), written to float32 so no rounding to the stored dtype can hide a difference.</summary>
    public static TheoryData<string, string, string> Methods => new()
    {
        { "linear", "{ weight: 0.3 }", "" },
        { "slerp", "", "parameters: { t: [0.2, 0.7] }\n" },
        { "task_arithmetic", "{ weight: 0.6 }", "" },
        { "ties", "{ weight: 0.6, density: 0.45 }", "" },
        { "dare_ties", "{ weight: 0.6, density: 0.45 }", "" },
        { "dare_linear", "{ weight: 0.6, density: 0.3 }", "" },
        { "model_stock", "{}", "" },
        { "model_stock", "{}", "parameters: { filter_wise: true }\n" },
    };

    [Theory]
    [MemberData(nameof(Methods))]
    public void A_merge_in_row_blocks_equals_the_whole_tensor_merge_bit_for_bit(string method, string parameters, string global)
    {
        var (a, b, c) = (MergeFixtures.SaveTiny(TempDir, "a", 1, dtype: ScalarType.BFloat16),
            MergeFixtures.SaveTiny(TempDir, "b", 2, dtype: ScalarType.BFloat16), MergeFixtures.SaveTiny(TempDir, "c", 3, dtype: ScalarType.BFloat16));
        // slerp takes the base and one other model; the rest take the base (linear: a plain member) and two.
        var others = method == "slerp" ? new[] { b } : [b, c];
        var models = string.Join("", others.Select(m => $"  - model: {m}\n" + (parameters == "" ? "" : $"    parameters: {parameters}\n")));
        var baseLine = method == "linear" ? "" : $"base_model: {a}\n";
        var first = method == "linear" ? $"  - model: {a}\n    parameters: {{ weight: 0.5 }}\n" : $"  - model: {a}\n";
        var yaml = $"merge_method: {method}\n{baseLine}models:\n{first}{models}{global}dtype: float32\n";
        var config = MergeConfigLoader.Load(MergeFixtures.WriteConfig(TempDir, yaml));
        var whole = ModelMerger.Run(config, Path.Combine(TempDir, "whole"), new MergeOptions(Seed: 5, BlockElements: long.MaxValue));
        // 1000 entries: the 320 × 64 embedding goes in 22 blocks of 15 rows (the last one of 5), the layers' matrices in blocks too.
        var blocked = ModelMerger.Run(config, Path.Combine(TempDir, "blocked"), new MergeOptions(Seed: 5, BlockElements: 1000));
        Assert.Equal(whole.Tensors, blocked.Tensors);
        var (expected, actual) = (File.ReadAllBytes(Path.Combine(whole.Directory, "model.safetensors")), File.ReadAllBytes(Path.Combine(blocked.Directory, "model.safetensors")));
        Assert.True(expected.AsSpan().SequenceEqual(actual), $"{method}: the blocked output differs from the whole-tensor output");
        // Not trivially equal: the merge is none of its inputs.
        var weights = MergeFixtures.Weights(blocked.Directory);
        Assert.False(TinyModels.Identical(weights["model.embed_tokens.weight"], MergeFixtures.Weights(b)["model.embed_tokens.weight"]));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(37)]
    [InlineData(2048)]
    [InlineData(4096)]
    public void Two_pass_kth_largest_equals_kthvalue_over_the_whole_tensor(long k)
    {
        using var generator = new Generator(9);
        // bf16-rounded magnitudes repeat often, so ties around the k-th value are exercised.
        var values = (randn([64, 64], generator: generator) * 0.02).to(ScalarType.BFloat16).to(ScalarType.Float32).abs();
        var expected = values.reshape(-1).kthvalue(values.numel() - k + 1, 0, false).values.item<float>();
        var select = new KthLargest(k);
        while (select.PassesLeft > 0)
        {
            for (var row = 0; row < 64; row += 10)
                select.Observe(MemoryMarshal.Cast<float, uint>(values[row..Math.Min(row + 10, 64)].contiguous().data<float>().ToArray()));
            select.EndPass();
        }
        Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(select.Value));
        Assert.Equal(float.PositiveInfinity, new KthLargest(0).Value);
    }

    [Fact]
    public void Rows_written_in_blocks_read_back_as_the_whole_tensor()
    {
        var t = arange(0, 60, dtype: ScalarType.Float32).reshape(12, 5);
        using (var writer = new CheckpointWriter(TempDir, [new TensorSlot("x", "F32", [12, 5]), new TensorSlot("y", "F32", [3])], long.MaxValue))
        {
            writer.WriteRows("x", t[..7]);
            Assert.Throws<InvalidOperationException>(() => writer.Write("y", zeros(3)));
            writer.WriteRows("x", t[7..]);
            writer.Write("y", ones(3));
            writer.Complete();
        }
        using var checkpoint = new Checkpoint(TempDir);
        Assert.True(TinyModels.Identical(checkpoint.Read("x"), t));
        Assert.True(TinyModels.Identical(checkpoint.ReadRows("x", 4, 3), t[4..7]));
        Assert.Throws<CheckpointException>(() => checkpoint.ReadRows("x", 10, 3));
    }
}
