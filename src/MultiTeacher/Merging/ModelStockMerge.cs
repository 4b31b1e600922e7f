using static TorchSharp.torch;

namespace MultiTeacher.Merging;

/// <summary>
/// Model Stock (Jang et al. 2024, "Model Stock: All we need is just a few fine-tuned models",
/// arXiv:2403.19522): with k fine-tuned models and cos θ the mean pairwise cosine of their offsets
/// θᵢ − θ_base, t = k·cos θ / (1 + (k−1)·cos θ) and θ = t·θ_avg + (1−t)·θ_base. Whole-tensor by
/// default; filter_wise computes θ per row (output filter), as mergekit does.
/// </summary>
public static class ModelStockMerge
{
    /// <summary>The interpolation ratio t for k models at mean pairwise cosine <paramref name="cos"/>.</summary>
    public static double Ratio(double cos, int k) => k * cos / (1 + (k - 1) * cos);

    public static Tensor Merge(Tensor baseTensor, IReadOnlyList<Tensor> models, bool filterWise)
    {
        if (models.Count < 2) throw new ArgumentException("model_stock needs at least two fine-tuned models");
        using var scope = NewDisposeScope();
        var shape = baseTensor.shape;
        Tensor Rows(Tensor t) => filterWise ? (t.dim() == 1 ? t.unsqueeze(0) : t) : t.reshape(1, -1);
        var w0 = Rows(baseTensor.to(ScalarType.Float32));
        var ws = models.Select(m => Rows(m.to(ScalarType.Float32))).ToList();
        var offsets = ws.Select(w => w - w0).ToList();
        var cosines = new List<Tensor>();
        for (var i = 0; i < offsets.Count; i++)
            for (var j = i + 1; j < offsets.Count; j++)
            {
                var norms = (offsets[i].norm(-1) * offsets[j].norm(-1)).clamp_min(1e-6);
                cosines.Add(((offsets[i] * offsets[j]).sum(-1) / norms).clamp(-1, 1));
            }
        var cos = stack(cosines).mean([0]).unsqueeze(-1);
        var k = models.Count;
        var t = cos * k / (cos * (k - 1) + 1);
        var average = stack(ws).mean([0]);
        return (t * average + (1 - t) * w0).reshape(shape).MoveToOuterDisposeScope();
    }
}
