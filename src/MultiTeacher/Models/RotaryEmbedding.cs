using MultiTeacher.Runtime;
using static TorchSharp.torch;

namespace MultiTeacher.Models;

/// <summary>
/// Rotary position embedding: inverse frequencies from rope_theta (with llama3 scaling when the
/// config asks), cos/sin tables for a range of positions, and their application to q and k.
/// </summary>
public sealed class RotaryEmbedding
{
    private readonly float[] _invFreq;   // (D/2)

    public RotaryEmbedding(ModelConfig config)
    {
        var dim = config.HeadDim;
        // float32 throughout, as transformers computes it, so positions match to the last bit.
        _invFreq = new float[dim / 2];
        for (var i = 0; i < dim / 2; i++) _invFreq[i] = 1f / MathF.Pow((float)config.RopeTheta, 2f * i / dim);
        if (config.RopeScaling is { Kind: "llama3" } s) ApplyLlama3Scaling(_invFreq, s);
    }

    private static void ApplyLlama3Scaling(float[] invFreq, RopeScaling s)
    {
        var original = s.OriginalMaxPositionEmbeddings ?? throw new InvalidDataException("llama3 rope scaling needs original_max_position_embeddings");
        var lowWavelen = original / s.LowFreqFactor;
        var highWavelen = original / s.HighFreqFactor;
        for (var i = 0; i < invFreq.Length; i++)
        {
            var wavelen = 2 * Math.PI / invFreq[i];
            if (wavelen > lowWavelen) invFreq[i] = (float)(invFreq[i] / s.Factor);   // low frequencies: fully scaled
            else if (wavelen >= highWavelen)                                          // medium: interpolate
            {
                var smooth = (original / wavelen - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor);
                invFreq[i] = (float)((1 - smooth) * invFreq[i] / s.Factor + smooth * invFreq[i]);
            }
        }
    }

    /// <summary>cos and sin for positions [start, start + length), each (T, D).</summary>
    public (Tensor Cos, Tensor Sin) Table(long start, long length, Device device, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var positions = arange(start, start + length, dtype: float32, device: device);          // (T)
        var invFreq = tensor(_invFreq, device: device);                                           // (D/2)
        var freqs = outer(positions, invFreq);                                                    // (T, D/2)
        var emb = cat([freqs, freqs], dim: -1);                                                   // (T, D)
        return (emb.cos().to(dtype).MoveToOuterDisposeScope(), emb.sin().to(dtype).MoveToOuterDisposeScope());
    }

    /// <summary>x (B, H, T, D) rotated by the tables (T, D).</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        using var scope = NewDisposeScope();
        var half = x.shape[^1] / 2;
        var x1 = x[.., .., .., ..(int)half];
        var x2 = x[.., .., .., (int)half..];
        var rotated = cat([-x2, x1], dim: -1);                                                    // (B, H, T, D)
        return (x * cos).add_(rotated * sin, Scalars.One).MoveToOuterDisposeScope();
    }
}
