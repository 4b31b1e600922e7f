using System.Diagnostics;
using MultiTeacher.Checkpoints;
using MultiTeacher.Models;
using static TorchSharp.torch;

namespace MultiTeacher.Benchmarks;

/// <summary>
/// A Hugging Face model directory (config.json + model.safetensors) of random bf16 weights in a
/// published model's shapes: what a real checkpoint costs in time and memory, without its values.
/// Written once under ~/.cache/multiteacher/bench and reused while its size matches the config.
/// </summary>
public static class RandomCheckpoint
{
    // 128 MB of N(0, 0.02²) values; every matrix is made of windows of it at random offsets, so 16 GB
    // are written at disk speed instead of at the speed of a normal sampler.
    private const long PoolElements = 64L << 20;
    private const long BlockElements = 8L << 20;

    /// <summary>The directory for <paramref name="configFile"/>, and the seconds spent writing it (0 when reused).</summary>
    public static (string Directory, double WriteSeconds) Ensure(string configFile, string name)
    {
        var directory = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "multiteacher", "bench", name);
        var config = ModelConfig.FromFile(configFile);
        var slots = Slots(config);
        var weights = Path.Combine(directory, "model.safetensors");
        if (File.Exists(weights) && File.Exists(Path.Combine(directory, "config.json")) && Matches(weights, slots)) return (directory, 0);
        Directory.CreateDirectory(directory);
        var clock = Stopwatch.StartNew();
        Write(weights, slots);
        File.Copy(configFile, Path.Combine(directory, "config.json"), overwrite: true);
        return (directory, clock.Elapsed.TotalSeconds);
    }

    private static List<TensorSlot> Slots(ModelConfig config)
    {
        using var meta = new CausalLM(config, new Device(TorchSharp.DeviceType.META));
        return [.. meta.state_dict().Select(kv => new TensorSlot(kv.Key, "BF16", kv.Value.shape))];
    }

    private static bool Matches(string path, IReadOnlyList<TensorSlot> slots)
    {
        try
        {
            using var file = new SafetensorsFile(path);
            return file.Entries.Count == slots.Count && slots.All(s => file.Entries.TryGetValue(s.Name, out var e) && e.DType == "BF16" && e.Shape.SequenceEqual(s.Shape));
        }
        catch (CheckpointException) { return false; }
    }

    private static void Write(string path, IReadOnlyList<TensorSlot> slots)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var generator = new Generator(1234);
        var pool = normal(0, 0.02, [PoolElements], dtype: ScalarType.BFloat16, generator: generator);
        var random = new Random(1234);
        using var writer = new SafetensorsStreamWriter(path, slots);
        foreach (var slot in slots)
        {
            using var tensorScope = NewDisposeScope();
            if (slot.Name.EndsWith("norm.weight")) { writer.Write(slot.Name, ones(slot.Shape, ScalarType.BFloat16)); continue; }
            var columns = slot.Shape.Skip(1).Aggregate(1L, (a, b) => a * b);
            var rowsPerBlock = Math.Max(1, BlockElements / columns);
            for (long row = 0; row < slot.Shape[0]; row += rowsPerBlock)
            {
                var rows = Math.Min(rowsPerBlock, slot.Shape[0] - row);
                var offset = random.NextInt64(PoolElements - rows * columns + 1);
                writer.WriteRows(slot.Name, pool.narrow(0, offset, rows * columns).view([rows, .. slot.Shape.Skip(1)]));
            }
        }
        writer.Complete();
    }
}
