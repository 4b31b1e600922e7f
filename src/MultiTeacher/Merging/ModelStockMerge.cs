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

    /// <summary>The whole-tensor mean pairwise cosine of the offsets, from sums gathered block by block (<see cref="RowSums"/>).</summary>
    public sealed class Cosine
    {
        private readonly RowSums[] _squares;
        private readonly RowSums[,] _dots;

        public Cosine(int models)
        {
            _squares = Enumerable.Range(0, models).Select(_ => new RowSums()).ToArray();
            _dots = new RowSums[models, models];
            for (var i = 0; i < models; i++)
                for (var j = i + 1; j < models; j++) _dots[i, j] = new RowSums();
        }

        public void Add(Tensor baseTensor, IReadOnlyList<Tensor> models)
        {
            using var scope = NewDisposeScope();
            var w0 = baseTensor.to(ScalarType.Float32);
            var offsets = models.Select(m => (m.to(ScalarType.Float32) - w0).to(ScalarType.Float64)).ToList();
            for (var i = 0; i < offsets.Count; i++)
            {
                _squares[i].Add(offsets[i] * offsets[i]);
                for (var j = i + 1; j < offsets.Count; j++) _dots[i, j].Add(offsets[i] * offsets[j]);
            }
        }

        public double Mean
        {
            get
            {
                var cosines = new List<double>();
                for (var i = 0; i < _squares.Length; i++)
                    for (var j = i + 1; j < _squares.Length; j++)
                        cosines.Add(Math.Clamp(_dots[i, j].Total / Math.Max(Math.Sqrt(_squares[i].Total) * Math.Sqrt(_squares[j].Total), 1e-6), -1, 1));
                return cosines.Average();
            }
        }
    }

    public static Tensor Merge(Tensor baseTensor, IReadOnlyList<Tensor> models, bool filterWise, Cosine? cosine = null)
    {
        if (models.Count < 2) throw new ArgumentException("model_stock needs at least two fine-tuned models");
        using var scope = NewDisposeScope();
        var w0 = baseTensor.to(ScalarType.Float32);
        var average = stack(models.Select(m => m.to(ScalarType.Float32)).ToList()).mean([0]);
        if (!filterWise)
        {
            if (cosine is null)
            {
                cosine = new Cosine(models.Count);
                cosine.Add(baseTensor, models);
            }
            var ratio = Ratio(cosine.Mean, models.Count);
            return (average * ratio + w0 * (1 - ratio)).MoveToOuterDisposeScope();
        }
        // Per row (output filter): each row's own cosine, so a block of rows needs nothing from the others.
        var shape = baseTensor.shape;
        Tensor Rows(Tensor t) => t.dim() == 1 ? t.unsqueeze(0) : t;
        var offsets = models.Select(m => Rows(m.to(ScalarType.Float32)) - Rows(w0)).ToList();
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
        return (t * Rows(average) + (1 - t) * Rows(w0)).reshape(shape).MoveToOuterDisposeScope();
    }
}
