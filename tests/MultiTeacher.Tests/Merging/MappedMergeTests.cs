using MultiTeacher.Checkpoints;
using MultiTeacher.Merging;
using static TorchSharp.torch;

namespace MultiTeacher.Tests.Merging;

[Trait("Category", TestCategory.Unit)]
public class MappedMergeTests : TempDirectoryTest
{
    [Theory]
    [InlineData("ties", long.MaxValue)]
    [InlineData("ties", 1000)]
    [InlineData("task_arithmetic", 1000)]
    public void Task_vector_merges_read_in_place_equal_the_tensor_merge_rounded_by_libtorch(string method, long blockElements)
    {
        var (a, b, c) = (MergeFixtures.SaveTiny(TempDir, "a", 1, dtype: ScalarType.BFloat16),
            MergeFixtures.SaveTiny(TempDir, "b", 2, dtype: ScalarType.BFloat16), MergeFixtures.SaveTiny(TempDir, "c", 3, dtype: ScalarType.BFloat16));
        var ties = method == "ties";
        string Parameters(double weight, double density) => ties ? $"{{ weight: {weight}, density: {density} }}" : $"{{ weight: {weight} }}";
        var yaml = $"merge_method: {method}\nbase_model: {a}\nmodels:\n  - model: {a}\n  - model: {b}\n    parameters: {Parameters(0.6, 0.45)}\n" +
                   $"  - model: {c}\n    parameters: {Parameters(1.3, 0.8)}\ndtype: bfloat16\n";
        var config = MergeConfigLoader.Load(MergeFixtures.WriteConfig(TempDir, yaml));
        var merged = ModelMerger.Run(config, Path.Combine(TempDir, "out"), new MergeOptions(BlockElements: blockElements));

        using var output = new Checkpoint(merged.Directory);
        using var ca = new Checkpoint(a);
        using var cb = new Checkpoint(b);
        using var cc = new Checkpoint(c);
        Assert.Equal(ca.Names.Count, output.Names.Count);
        foreach (var name in output.Names)
        {
            using var scope = NewDisposeScope();
            var expected = TaskVectorMerge.Merge(ca.Read(name), [new(cb.Read(name), 0.6, ties ? 0.45 : 1), new(cc.Read(name), 1.3, ties ? 0.8 : 1)],
                ties ? Sparsification.Magnitude : Sparsification.None, signConsensus: ties, normalize: ties, rescale: false, lambda: 1).to(ScalarType.BFloat16);
            var actual = output.Read(name);
            Assert.Equal(ScalarType.BFloat16, actual.dtype);
            Assert.True(expected.bytes.SequenceEqual(actual.bytes), $"{method}: '{name}' differs from the tensor merge");
        }
    }
}
