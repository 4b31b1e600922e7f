using System.Security.Cryptography;
using System.Text;
using static TorchSharp.torch;

namespace MultiTeacher.Merging;

/// <summary>Applies a configuration's method to one planned tensor, with its parameters evaluated for that tensor.</summary>
public static class TensorMerge
{
    public static Tensor Apply(MergeConfig config, PlannedTensor planned, IReadOnlyList<Tensor> inputs, long seed)
    {
        var slice = planned.Slice;
        double Number(string name, MergeSource? source) => config.Parameter(name, slice, source, planned.Name, planned.T) switch
        {
            double d => d,
            null => throw new MergeException($"{config.File}: missing required parameter '{name}'{(source is null ? "" : $" for model '{source.Model}'")} (tensor {planned.Name})"),
            var other => throw new MergeException($"{config.File}: parameter '{name}' must be a number, got {other}"),
        };
        bool Flag(string name) => config.Parameter(name, slice, null, planned.Name, planned.T) is true;

        var baseIndex = planned.Inputs.ToList().FindIndex(i => i.Source.Model == config.BaseModel);
        var others = Enumerable.Range(0, inputs.Count).Where(i => i != baseIndex).ToList();
        switch (config.Method.Kind)
        {
            case MergeMethodKind.Linear:
                return LinearMerge.Merge(inputs, planned.Inputs.Select(i => Number("weight", i.Source)).ToList(), Flag("normalize"));
            case MergeMethodKind.Slerp:
                return SlerpMerge.Merge(Number("t", null), inputs[baseIndex], inputs[others[0]]);
            case MergeMethodKind.ModelStock:
                return ModelStockMerge.Merge(inputs[baseIndex], others.Select(i => inputs[i]).ToList(), Flag("filter_wise"));
        }
        var kind = config.Method.Kind;
        var sparsification = kind switch
        {
            MergeMethodKind.Ties => Sparsification.Magnitude,
            MergeMethodKind.DareTies or MergeMethodKind.DareLinear => Sparsification.Random,
            _ => Sparsification.None,
        };
        var models = others.Select(i =>
        {
            var source = planned.Inputs[i].Source;
            var density = config.Method.ModelParameters.ContainsKey("density") ? Number("density", source) : 1;
            var random = sparsification == Sparsification.Random ? new Generator(StreamSeed(seed, planned.Name, i)) : null;
            return new TaskVectorInput(inputs[i], Number("weight", source), density, random);
        }).ToList();
        try
        {
            return TaskVectorMerge.Merge(inputs[baseIndex], models, sparsification,
                signConsensus: kind is MergeMethodKind.Ties or MergeMethodKind.DareTies,
                normalize: Flag("normalize"), rescale: Flag("rescale"), lambda: Number("lambda", null));
        }
        finally
        {
            foreach (var m in models) m.Random?.Dispose();
        }
    }

    /// <summary>
    /// DARE's random stream for one tensor of one model, derived from the run's seed: the same seed
    /// gives the same masks whatever order, sharding or subset of tensors a merge runs in.
    /// </summary>
    public static ulong StreamSeed(long seed, string tensor, int model) =>
        BitConverter.ToUInt64(SHA256.HashData(Encoding.UTF8.GetBytes($"{seed}/{tensor}/{model}")), 0);
}
