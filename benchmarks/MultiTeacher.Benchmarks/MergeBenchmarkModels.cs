using System.Runtime.InteropServices;
using MultiTeacher.Checkpoints;
using MultiTeacher.Models;
using static TorchSharp.torch;

namespace MultiTeacher.Benchmarks;

/// <summary>
/// The merge benchmark's inputs: Llama-3.2-1B-shaped bf16 checkpoints with random weights, written
/// block by block straight from a seeded byte stream (drawing 1.2 G normal values through torch takes
/// minutes per model here), and evicted from the page cache before each measurement so every run
/// reads them from disk.
/// </summary>
public static class MergeBenchmarkModels
{
    /// <summary>Llama-3.2-1B's published shape (meta-llama/Llama-3.2-1B config.json).</summary>
    public static ModelConfig LlamaOneB() => new()
    {
        ModelType = "llama", VocabSize = 128256, HiddenSize = 2048, IntermediateSize = 8192, NumHiddenLayers = 16,
        NumAttentionHeads = 32, NumKeyValueHeads = 8, HeadDimOverride = 64, RmsNormEps = 1e-5, RopeTheta = 500000,
        TieWordEmbeddings = true, MaxPositionEmbeddings = 131072,
    };

    /// <summary>bf16 bytes of a model, from the tensor shapes it is written with (building even a meta-device model of this size costs minutes here).</summary>
    public static long Bytes(ModelConfig c) => 2 * Shapes(c).Sum(s => s.Shape.Aggregate(1L, (a, b) => a * b));

    /// <summary>
    /// A bf16 model directory written in blocks of at most 16 M entries. Each entry is a random sign,
    /// a random 7-bit mantissa and one of four exponents: magnitudes from 2⁻⁸ to 2⁻⁵, the scale of
    /// a trained model's weights, never NaN or Inf.
    /// </summary>
    public static string WriteRandom(ModelConfig config, string dir, int seed)
    {
        Directory.CreateDirectory(dir);
        config.TorchDtype = "bfloat16";
        config.Save(dir);
        var slots = Shapes(config).Select(s => new TensorSlot(s.Name, "BF16", s.Shape)).ToList();
        var random = new Random(seed);
        using var writer = new CheckpointWriter(dir, slots, long.MaxValue);
        foreach (var slot in slots)
        {
            var rows = slot.Shape.Length == 1 ? 1 : slot.Shape[0];
            var rowElements = slot.Shape.Aggregate(1L, (a, b) => a * b) / rows;
            var blockRows = Math.Max(1, (1L << 24) / rowElements);
            for (long start = 0; start < rows; start += blockRows)
            {
                using var scope = NewDisposeScope();
                var count = Math.Min(blockRows, rows - start);
                var block = slot.Shape.Length == 1 ? empty(slot.Shape, ScalarType.BFloat16) : empty([count, .. slot.Shape.Skip(1)], ScalarType.BFloat16);
                Fill(block.bytes, random);
                if (slot.Shape.Length == 1) writer.Write(slot.Name, block);
                else writer.WriteRows(slot.Name, block);
            }
        }
        writer.Complete();
        return dir;
    }

    private static void Fill(Span<byte> bytes, Random random)
    {
        random.NextBytes(bytes);
        // Four bf16 values per word: keep sign and mantissa, set the exponent to 119 + two random bits.
        foreach (ref var word in MemoryMarshal.Cast<byte, ulong>(bytes))
            word = (word & 0x807F_807F_807F_807FUL) | ((((word >> 7) & 0x0003_0003_0003_0003UL) + 0x0077_0077_0077_0077UL) << 7);
    }

    public static IEnumerable<(string Name, long[] Shape)> Shapes(ModelConfig c)
    {
        long h = c.HiddenSize, q = c.NumAttentionHeads * c.HeadDim, kv = c.KeyValueHeads * c.HeadDim, m = c.IntermediateSize;
        yield return ("model.embed_tokens.weight", [c.VocabSize, h]);
        for (var i = 0; i < c.NumHiddenLayers; i++)
        {
            var p = $"model.layers.{i}.";
            yield return (p + "input_layernorm.weight", [h]);
            yield return (p + "self_attn.q_proj.weight", [q, h]);
            yield return (p + "self_attn.k_proj.weight", [kv, h]);
            yield return (p + "self_attn.v_proj.weight", [kv, h]);
            yield return (p + "self_attn.o_proj.weight", [h, q]);
            yield return (p + "post_attention_layernorm.weight", [h]);
            yield return (p + "mlp.gate_proj.weight", [m, h]);
            yield return (p + "mlp.up_proj.weight", [m, h]);
            yield return (p + "mlp.down_proj.weight", [h, m]);
        }
        yield return ("model.norm.weight", [h]);
    }

    /// <summary>
    /// Writes the directories' safetensors files to disk and drops them from the page cache, so the
    /// next run reads them from disk; other files in the cache are left alone.
    /// </summary>
    public static void Evict(IEnumerable<string> directories)
    {
        foreach (var file in directories.SelectMany(d => Directory.GetFiles(d, "*.safetensors")))
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.ReadWrite);
            stream.Flush(flushToDisk: true);
            _ = posix_fadvise((int)stream.SafeFileHandle.DangerousGetHandle(), 0, 0, PosixFadvDontNeed);
        }
    }

    private const int PosixFadvDontNeed = 4;

    [DllImport("libc", SetLastError = true)]
    private static extern int posix_fadvise(int fd, long offset, long length, int advice);
}
