using MultiTeacher.Merging;

namespace MultiTeacher.Tests.Merging;

[Trait("Category", TestCategory.Unit)]
public class MergeConfigTests : TempDirectoryTest
{
    [Fact]
    public void Gradient_lists_interpolate_across_layers()
    {
        // [0, 0.5, 1, 0] over 5 layers: t = i/4, position t·3 → 0, 0.75, 1.5, 2.25, 3:
        // 0; 0 + 0.75·0.5 = 0.375; 0.5 + 0.5·0.5 = 0.75; 1 − 0.25·1 = 0.75; 0.
        var gradient = new ParameterSetting.Gradient([0, 0.5, 1, 0], 1, 1);
        double[] expected = [0, 0.375, 0.75, 0.75, 0];
        for (var i = 0; i < 5; i++) Assert.Equal(expected[i], (double)gradient.Evaluate("model.layers.0.mlp.up_proj.weight", i / 4.0)!, 12);
    }

    [Fact]
    public void Planned_layers_get_their_gradient_value_and_filters_pick_by_tensor_name()
    {
        var a = MergeFixtures.SaveTiny(TempDir, "a", seed: 1, layers: 5);
        var b = MergeFixtures.SaveTiny(TempDir, "b", seed: 2, layers: 5);
        var config = MergeFixtures.WriteConfig(TempDir, $"""
            merge_method: slerp
            base_model: {a}
            slices:
              - sources:
                  - model: {a}
                    layer_range: [0, 5]
                  - model: {b}
                    layer_range: [0, 5]
            parameters:
              t:
                - filter: self_attn
                  value: [0, 0.5, 1, 0]
                - value: 0.25
            """);
        var loaded = MergeConfigLoader.Load(config);
        using var sources = new MergeSources(loaded.Models);
        var (plan, layers) = MergePlan.Build(loaded, sources);
        Assert.Equal(5, layers);
        double T(string name)
        {
            var p = plan.Single(x => x.Name == name);
            return (double)loaded.Parameter("t", p.Slice, null, p.Name, p.T)!;
        }
        double[] expected = [0, 0.375, 0.75, 0.75, 0];
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(expected[i], T($"model.layers.{i}.self_attn.q_proj.weight"), 12);
            Assert.Equal(0.25, T($"model.layers.{i}.mlp.down_proj.weight"), 12);
        }
        Assert.Equal(0.25, T("model.embed_tokens.weight"), 12);
    }

    [Fact]
    public void Unknown_keys_name_file_line_and_key()
    {
        var a = MergeFixtures.SaveTiny(TempDir, "a", seed: 1);
        var config = MergeFixtures.WriteConfig(TempDir, $"""
            merge_method: linear
            models:
              - model: {a}
                parameters:
                  weight: 1
                  wieght: 2
            int8_mask: true
            """);
        var e = Assert.Throws<MergeException>(() => MergeConfigLoader.Load(config));
        Assert.Contains($"{config}:6:7: unknown or unsupported key 'wieght'", e.Message);
        Assert.Contains($"{config}:7:1: unknown or unsupported key 'int8_mask'", e.Message);
    }

    [Fact]
    public void Methods_that_need_a_base_model_say_so()
    {
        var a = MergeFixtures.SaveTiny(TempDir, "a", seed: 1);
        var config = MergeFixtures.WriteConfig(TempDir, $"""
            merge_method: ties
            models:
              - model: {a}
                parameters:
                  weight: 1
                  density: 1.5
            """);
        var e = Assert.Throws<MergeException>(() => MergeConfigLoader.Load(config));
        Assert.Contains("ties needs a base_model", e.Message);
        Assert.Contains("'density' is 1.5, must be in (0, 1]", e.Message);
    }
}
