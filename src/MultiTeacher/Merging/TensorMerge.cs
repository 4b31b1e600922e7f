using System.Security.Cryptography;
using System.Text;
using static TorchSharp.torch;

namespace MultiTeacher.Merging;

/// <summary>A task-vector merge's parameters for one tensor: which input is the base, each other input's weight and density.</summary>
internal sealed record TaskVectorParameters(int Base, IReadOnlyList<int> Others, IReadOnlyList<(double Weight, double Density)> Models,
    Sparsification Sparsification, bool SignConsensus, bool Normalize, double Lambda);

/// <summary>
/// Applies a configuration's method to one planned tensor, with its parameters evaluated for that
/// tensor, either to the whole tensor or to blocks of its rows. A method that needs a statistic of
/// the whole tensor (TIES' trim threshold, slerp's angle, model_stock's cosine) first sees every
/// block in <see cref="Passes"/> passes; the merged blocks then equal the whole-tensor merge bit for bit.
/// </summary>
public sealed class TensorMerge : IDisposable
{
    private readonly MergeMethodKind _kind;
    private readonly int _base;
    private readonly List<int> _others;
    private readonly List<(double Weight, double Density, Generator? Random)> _models;
    private readonly IReadOnlyList<double> _weights;
    private readonly bool _normalize, _rescale, _filterWise;
    private readonly double _t, _lambda;
    private readonly SlerpMerge.Angle? _angle;
    private readonly ModelStockMerge.Cosine? _cosine;
    private readonly KthLargest[]? _thresholds;
    private int _pass;

    /// <param name="blocked">Whether the tensor arrives in several blocks of rows (whole-tensor statistics are then gathered first).</param>
    public TensorMerge(MergeConfig config, PlannedTensor planned, long seed, bool blocked)
    {
        var slice = planned.Slice;
        double Number(string name, MergeSource? source) => config.Parameter(name, slice, source, planned.Name, planned.T) switch
        {
            double d => d,
            null => throw new MergeException($"{config.File}: missing required parameter '{name}'{(source is null ? "" : $" for model '{source.Model}'")} (tensor {planned.Name})"),
            var other => throw new MergeException($"{config.File}: parameter '{name}' must be a number, got {other}"),
        };
        bool Flag(string name) => config.Parameter(name, slice, null, planned.Name, planned.T) is true;

        _kind = config.Method.Kind;
        _base = planned.Inputs.ToList().FindIndex(i => i.Source.Model == config.BaseModel);
        _others = Enumerable.Range(0, planned.Inputs.Count).Where(i => i != _base).ToList();
        _normalize = Flag("normalize");
        _models = [];
        _weights = [];
        switch (_kind)
        {
            case MergeMethodKind.Linear:
                _weights = planned.Inputs.Select(i => Number("weight", i.Source)).ToList();
                return;
            case MergeMethodKind.Slerp:
                _t = Number("t", null);
                _angle = new SlerpMerge.Angle();
                return;
            case MergeMethodKind.ModelStock:
                _filterWise = Flag("filter_wise");
                _cosine = _filterWise ? null : new ModelStockMerge.Cosine(_others.Count);
                return;
        }
        var sparsification = Sparsification;
        _models = _others.Select(i =>
        {
            var source = planned.Inputs[i].Source;
            var density = config.Method.ModelParameters.ContainsKey("density") ? Number("density", source) : 1;
            var random = sparsification == Sparsification.Random ? new Generator(StreamSeed(seed, planned.Name, i)) : null;
            return (Number("weight", source), density, random);
        }).ToList();
        _rescale = Flag("rescale");
        _lambda = Number("lambda", null);
        var elements = planned.Slot.Shape.Aggregate(1L, (a, b) => a * b);
        if (blocked && sparsification == Sparsification.Magnitude)
            _thresholds = _models.Select(m => new KthLargest(m.Density >= 1 ? 0 : Sparsify.KeptEntries(m.Density, elements))).ToArray();
    }

    private Sparsification Sparsification => _kind switch
    {
        MergeMethodKind.Ties => Sparsification.Magnitude,
        MergeMethodKind.DareTies or MergeMethodKind.DareLinear => Sparsification.Random,
        _ => Sparsification.None,
    };

    /// <summary>The evaluated parameters of task_arithmetic or ties, for merging straight from the mapped inputs.</summary>
    internal TaskVectorParameters TaskVectors => new(_base, _others, _models.Select(m => (m.Weight, m.Density)).ToList(),
        Sparsification, _kind == MergeMethodKind.Ties, _normalize, _lambda);

    /// <summary>Passes over every block of the tensor (<see cref="Observe"/>, then <see cref="EndPass"/>) before blocks can be merged.</summary>
    public int Passes => _kind switch
    {
        MergeMethodKind.Slerp => 1,
        MergeMethodKind.ModelStock when !_filterWise => 1,
        _ when _thresholds is { Length: > 0 } => _thresholds.Max(t => t.PassesLeft) + _pass,
        _ => 0,
    };

    /// <summary>Gathers a block's share of the whole-tensor statistics for the pass in progress.</summary>
    public void Observe(IReadOnlyList<Tensor> block)
    {
        using var scope = NewDisposeScope();
        _angle?.Add(block[_base], block[_others[0]]);
        _cosine?.Add(block[_base], _others.Select(i => block[i]).ToList());
        if (_thresholds is null) return;
        using var theta0 = new FloatReader(block[_base]);
        var models = _others.Select(i => new FloatReader(block[i])).ToList();
        try
        {
            Parallel.For(0, _thresholds.Length, m =>
            {
                if (_thresholds[m].PassesLeft > 0) TaskVectorKernel.ObserveMagnitudes(theta0, models[m], _thresholds[m], 0, theta0.Count);
            });
        }
        finally
        {
            foreach (var model in models) model.Dispose();
        }
    }

    public void EndPass()
    {
        foreach (var t in _thresholds ?? []) t.EndPass();
        _pass++;
    }

    /// <summary>The merged block (float32), given the same rows of every input; blocks must come in row order (DARE's streams).</summary>
    public Tensor Merge(IReadOnlyList<Tensor> block)
    {
        if (_pass < Passes) throw new InvalidOperationException("the whole-tensor statistics have not been gathered");
        switch (_kind)
        {
            case MergeMethodKind.Linear:
                return LinearMerge.Merge(block, _weights, _normalize);
            case MergeMethodKind.Slerp:
                return SlerpMerge.Merge(_t, block[_base], block[_others[0]], _angle!);
            case MergeMethodKind.ModelStock:
                return ModelStockMerge.Merge(block[_base], _others.Select(i => block[i]).ToList(), _filterWise, _cosine);
        }
        var models = _models.Select((m, i) => new TaskVectorInput(block[_others[i]], m.Weight, m.Density, m.Random, _thresholds?[i].Value)).ToList();
        return TaskVectorMerge.Merge(block[_base], models, Sparsification,
            signConsensus: _kind is MergeMethodKind.Ties or MergeMethodKind.DareTies,
            normalize: _normalize, rescale: _rescale, lambda: _lambda);
    }

    /// <summary>The whole tensor merged at once.</summary>
    public static Tensor Apply(MergeConfig config, PlannedTensor planned, IReadOnlyList<Tensor> inputs, long seed)
    {
        using var merge = new TensorMerge(config, planned, seed, blocked: false);
        if (merge.Passes > 0)
        {
            merge.Observe(inputs);
            merge.EndPass();
        }
        return merge.Merge(inputs);
    }

    /// <summary>
    /// DARE's random stream for one tensor of one model, derived from the run's seed: the same seed
    /// gives the same masks whatever order, sharding or subset of tensors a merge runs in.
    /// </summary>
    public static ulong StreamSeed(long seed, string tensor, int model) =>
        BitConverter.ToUInt64(SHA256.HashData(Encoding.UTF8.GetBytes($"{seed}/{tensor}/{model}")), 0);

    public void Dispose()
    {
        foreach (var m in _models) m.Random?.Dispose();
    }
}
