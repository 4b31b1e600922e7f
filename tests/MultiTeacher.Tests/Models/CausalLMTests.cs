using MultiTeacher.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace MultiTeacher.Tests.Models;

[Trait("Category", TestCategory.Unit)]
public class CausalLMTests
{
    [Theory]
    [InlineData("qwen2.5-0.5b", 494_032_768L)]
    [InlineData("llama-3.2-1b", 1_235_814_400L)]
    [InlineData("mistral-7b-v0.1", 7_241_732_096L)]
    public void PublishedConfigs_HaveThePublishedParameterCounts(string name, long expected)
    {
        var config = ModelConfig.FromPretrained(TestAssets.FixturePath("configs", name));
        Assert.Equal(expected, CausalLM.CountParameters(config));
    }

    [Fact]
    public void UnknownModelType_IsRejected_NamingTheFile()
    {
        var dir = Directory.CreateTempSubdirectory("mt-cfg-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "config.json"), """{"model_type": "gpt2", "vocab_size": 10}""");
            var e = Assert.Throws<InvalidDataException>(() => ModelConfig.FromPretrained(dir));
            Assert.Contains("config.json", e.Message);
            Assert.Contains("unsupported model_type 'gpt2'", e.Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Theory, MemberData(nameof(TinyModels.FamilyData), MemberType = typeof(TinyModels))]
    public void ParameterNames_AreTheHuggingFaceCheckpointKeys(string family)
    {
        using var model = new CausalLM(TinyModels.Config(family));
        var names = model.state_dict().Keys.ToHashSet();
        Assert.Contains("model.embed_tokens.weight", names);
        Assert.Contains("model.layers.1.self_attn.q_proj.weight", names);
        Assert.Contains("model.layers.0.mlp.gate_proj.weight", names);
        Assert.Contains("model.layers.0.input_layernorm.weight", names);
        Assert.Contains("model.layers.0.post_attention_layernorm.weight", names);
        Assert.Contains("model.norm.weight", names);
        Assert.Equal(family is "llama" or "mistral", names.Contains("lm_head.weight"));
        Assert.Equal(family == "qwen2", names.Contains("model.layers.0.self_attn.q_proj.bias"));
        Assert.DoesNotContain("model.layers.0.self_attn.o_proj.bias", names);
        Assert.Equal(family == "qwen3", names.Contains("model.layers.0.self_attn.q_norm.weight"));
        Assert.Equal(family == "qwen3", names.Contains("model.layers.0.self_attn.k_norm.weight"));
        var headDim = family == "qwen3" ? 24 : 64 / 4;
        Assert.Equal([4L * headDim, 64L], model.state_dict()["model.layers.0.self_attn.q_proj.weight"].shape);
    }

    [Theory, MemberData(nameof(TinyModels.FamilyData), MemberType = typeof(TinyModels))]
    public void IncrementalDecodingWithKvCache_GivesTheLogitsOfAFullForward(string family)
    {
        var config = TinyModels.Config(family);
        using var model = TinyModels.Create(config);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var ids = TinyModels.RandomIds(config, batch: 2, length: 12, seed: 5);
        var full = model.forward(ids);                                                // (2, 12, V)
        using var cache = new KvCache(config.NumHiddenLayers);
        var prefill = model.Forward(ids[.., ..7], cache);                              // (2, 7, V)
        var steps = new List<Tensor> { prefill };
        for (var t = 7; t < 12; t++) steps.Add(model.Forward(ids[.., t..(t + 1)], cache));
        var incremental = cat(steps, dim: 1);
        Assert.True(allclose(full, incremental, rtol: 1e-4, atol: 1e-5), $"max diff {(full - incremental).abs().max().item<float>()}");
    }

    [Theory, MemberData(nameof(TinyModels.FamilyData), MemberType = typeof(TinyModels))]
    public void Logits_AreCausal_ChangingALaterTokenLeavesEarlierPositionsAlone(string family)
    {
        var config = TinyModels.Config(family);
        using var model = TinyModels.Create(config);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var ids = TinyModels.RandomIds(config, 1, 10, seed: 9);
        var altered = ids.clone();
        altered[0, 7] = (ids[0, 7] + 1) % config.VocabSize;
        var a = model.forward(ids);
        var b = model.forward(altered);
        Assert.True(TinyModels.Identical(a[.., ..7], b[.., ..7]));
        Assert.False(TinyModels.Identical(a[.., 7..], b[.., 7..]));
    }

    [Fact]
    public void MistralSlidingWindow_HidesTokensOlderThanTheWindow()
    {
        var config = TinyModels.Config("mistral");
        config.SlidingWindow = 4;
        using var model = TinyModels.Create(config);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var ids = TinyModels.RandomIds(config, 1, 10, seed: 2);
        var last = model.forward(ids)[0, 9];
        // With 2 layers, information moves back at most 2 * (4 - 1) = 6 positions: position 9 sees 3..9.
        var far = ids.clone();
        far[0, 2] = (ids[0, 2] + 1) % config.VocabSize;
        Assert.True(TinyModels.Identical(last, model.forward(far)[0, 9]));
        var near = ids.clone();
        near[0, 8] = (ids[0, 8] + 1) % config.VocabSize;
        Assert.False(TinyModels.Identical(last, model.forward(near)[0, 9]));
    }

    [Fact]
    public void Forward_KeepsLiveTensorsFlat_Over200Passes()
    {
        var config = TinyModels.Config("qwen3");
        using var model = TinyModels.Create(config);
        using var ids = TinyModels.RandomIds(config, 2, 16, seed: 1);
        using var noGrad = no_grad();
        using (var warm = model.forward(ids)) { }
        var before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (var i = 0; i < 200; i++)
        {
            using var scope = NewDisposeScope();
            model.forward(ids);
        }
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void Generation_Greedy_IsTheArgmaxOfFullForwards()
    {
        var config = TinyModels.Config("llama");
        using var model = TinyModels.Create(config);
        int[] prompt = [5, 17, 42];
        var generated = TextGenerator.Generate(model, prompt, maxNewTokens: 6);
        var sequence = prompt.ToList();
        using var noGrad = no_grad();
        foreach (var token in generated)
        {
            using var scope = NewDisposeScope();
            var logits = model.forward(tensor(sequence.Select(i => (long)i).ToArray()).unsqueeze(0));
            Assert.Equal(logits[0, -1].argmax().item<long>(), token);
            sequence.Add(token);
        }
    }
}
