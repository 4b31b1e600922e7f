using System.Text;
using MultiTeacher.Checkpoints;
using MultiTeacher.Models;
using MultiTeacher.Tests.Models;
using static TorchSharp.torch;

namespace MultiTeacher.Tests.Checkpoints;

[Trait("Category", TestCategory.Unit)]
public sealed class CheckpointTests : TempDirectoryTest
{
    private string SaveTiny(string family, ScalarType dtype = ScalarType.Float32, long seed = 1)
    {
        var dir = Path.Combine(TempDir, $"{family}-{dtype}-{seed}");
        using var model = TinyModels.Create(TinyModels.Config(family), seed);
        PretrainedModel.Save(model, dir, dtype: dtype);
        return dir;
    }

    [Theory, MemberData(nameof(TinyModels.FamilyData), MemberType = typeof(TinyModels))]
    public void SaveThenLoad_GivesIdenticalLogits(string family)
    {
        var config = TinyModels.Config(family);
        using var original = TinyModels.Create(config);
        var dir = Path.Combine(TempDir, family);
        PretrainedModel.Save(original, dir);
        using var loaded = PretrainedModel.Load(dir);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var ids = TinyModels.RandomIds(config, 2, 9, seed: 3);
        Assert.True(TinyModels.Identical(original.forward(ids), loaded.forward(ids)));
        foreach (var file in new[] { "config.json", "model.safetensors", "generation_config.json" })
            Assert.True(File.Exists(Path.Combine(dir, file)), file);
    }

    [Theory]
    [InlineData(ScalarType.BFloat16, "BF16")]
    [InlineData(ScalarType.Float16, "F16")]
    public void HalfPrecisionCheckpoints_RoundTripWithinTheirPrecision(ScalarType dtype, string name)
    {
        var dir = SaveTiny("qwen2", dtype);
        using var file = new SafetensorsFile(Path.Combine(dir, "model.safetensors"));
        Assert.All(file.Entries.Values, e => Assert.Equal(name, e.DType));
        using var loaded = PretrainedModel.Load(dir);
        using var reference = TinyModels.Create(TinyModels.Config("qwen2"));
        using var scope = NewDisposeScope();
        var a = reference.state_dict()["model.layers.0.mlp.up_proj.weight"];
        var b = loaded.state_dict()["model.layers.0.mlp.up_proj.weight"];
        Assert.True(allclose(a, b, rtol: 1e-2, atol: 1e-3));
    }

    [Fact]
    public void ShardedCheckpoint_LoadsLikeTheSingleFile()
    {
        var single = SaveTiny("llama");
        var sharded = Path.Combine(TempDir, "sharded");
        Directory.CreateDirectory(sharded);
        File.Copy(Path.Combine(single, "config.json"), Path.Combine(sharded, "config.json"));
        using (var scope = NewDisposeScope())
        using (var file = new SafetensorsFile(Path.Combine(single, "model.safetensors")))
        {
            var names = file.Entries.Keys.Order(StringComparer.Ordinal).ToList();
            var halves = new[] { names.Take(names.Count / 2).ToList(), names.Skip(names.Count / 2).ToList() };
            var map = new Dictionary<string, string>();
            for (var i = 0; i < 2; i++)
            {
                var shard = $"model-0000{i + 1}-of-00002.safetensors";
                SafetensorsWriter.Write(Path.Combine(sharded, shard), halves[i].ToDictionary(n => n, file.Read));
                foreach (var n in halves[i]) map[n] = shard;
            }
            File.WriteAllText(Path.Combine(sharded, "model.safetensors.index.json"), System.Text.Json.JsonSerializer.Serialize(new { metadata = new { }, weight_map = map }));
        }
        using var a = PretrainedModel.Load(single);
        using var b = PretrainedModel.Load(sharded);
        using var s2 = NewDisposeScope();
        var ids = TinyModels.RandomIds(a.Config, 1, 6, seed: 1);
        Assert.True(TinyModels.Identical(a.forward(ids), b.forward(ids)));
    }

    [Fact]
    public void MissingAndUnexpectedTensors_AreNamed()
    {
        var dir = SaveTiny("mistral");
        var path = Path.Combine(dir, "model.safetensors");
        using (var scope = NewDisposeScope())
        {
            Dictionary<string, Tensor> tensors;
            using (var file = new SafetensorsFile(path)) tensors = file.Entries.Keys.ToDictionary(n => n, file.Read);
            tensors.Remove("model.layers.1.mlp.down_proj.weight");
            tensors["model.layers.9.extra.weight"] = zeros(2);
            SafetensorsWriter.Write(path, tensors);
        }
        var e = Assert.Throws<CheckpointException>(() => PretrainedModel.Load(dir));
        Assert.Contains("missing [model.layers.1.mlp.down_proj.weight]", e.Message);
        Assert.Contains("unexpected [model.layers.9.extra.weight]", e.Message);
    }

    [Fact]
    public void ShapeMismatch_NamesFileAndTensor()
    {
        var dir = SaveTiny("llama");
        var config = TinyModels.Config("llama");
        config.IntermediateSize = 80;
        config.Save(dir);
        var e = Assert.Throws<CheckpointException>(() => PretrainedModel.Load(dir));
        Assert.EndsWith("model.safetensors", e.File);
        Assert.Contains("mlp", e.Tensor);
        Assert.Contains("does not match the model", e.Message);
    }

    [Fact]
    public void TruncatedFile_IsRejected_NamingTheTensorThatRunsPastTheEnd()
    {
        var dir = SaveTiny("qwen3");
        var path = Path.Combine(dir, "model.safetensors");
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length - 100)]);
        var e = Assert.Throws<CheckpointException>(() => new SafetensorsFile(path));
        Assert.NotNull(e.Tensor);
        Assert.Contains("outside", e.Message);
    }

    [Theory]
    [InlineData("""{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,8]}}""", 8, "needs 16")]
    [InlineData("""{"w":{"dtype":"I8","shape":[4],"data_offsets":[0,4]}}""", 4, "unsupported dtype I8")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", 12, "overlaps")]
    [InlineData("""{"w": [1, 2""", 0, "not valid JSON")]
    public void HeadersThatLie_AreRejected(string header, int dataBytes, string problem)
    {
        var path = Path.Combine(TempDir, "bad.safetensors");
        var json = Encoding.UTF8.GetBytes(header);
        File.WriteAllBytes(path, [.. BitConverter.GetBytes((long)json.Length), .. json, .. new byte[dataBytes]]);
        var e = Assert.Throws<CheckpointException>(() => new SafetensorsFile(path));
        Assert.Contains(problem, e.Message);
        Assert.Contains("bad.safetensors", e.Message);
    }

    [Fact]
    public void AbsurdHeaderLength_IsRejectedBeforeAllocating()
    {
        var path = Path.Combine(TempDir, "huge.safetensors");
        File.WriteAllBytes(path, [.. BitConverter.GetBytes(1L << 40), .. "{}"u8.ToArray()]);
        var e = Assert.Throws<CheckpointException>(() => new SafetensorsFile(path));
        Assert.Contains("header length", e.Message);
    }
}
