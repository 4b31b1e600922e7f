using System.Text.RegularExpressions;
using MultiTeacher.Checkpoints;

namespace MultiTeacher.Merging;

/// <summary>One output tensor: where each source's copy of it lives, and its position t in its slice.</summary>
public sealed record PlannedTensor(string Name, MergeSlice Slice, IReadOnlyList<(MergeSource Source, string Input)> Inputs, double T, TensorSlot Slot);

/// <summary>
/// Maps every output tensor to its inputs as mergekit plans a merge: slices are laid end to end
/// (output layer i of a slice reads layer start+i of each source, at t = i/(n−1), or 1 for a
/// one-layer slice); the embedding comes from the first slice at t = 0, final norm and LM head from
/// the last slice at t = 1. Every input is checked to exist with one shape before anything is read.
/// </summary>
public static partial class MergePlan
{
    [GeneratedRegex(@"^model\.layers\.(\d+)\.(.+)$")]
    private static partial Regex LayerName();

    public static (IReadOnlyList<PlannedTensor> Tensors, int Layers) Build(MergeConfig config, MergeSources sources)
    {
        var slices = config.Slices.Select(s => s with
        {
            Sources = s.Sources.Select(x => x with { LayerRange = x.LayerRange ?? (0, sources[x.Model].Config.NumHiddenLayers) }).ToList(),
        }).ToList();
        foreach (var slice in slices)
        {
            var lengths = slice.Sources.Select(s => s.LayerRange!.Value.End - s.LayerRange.Value.Start).Distinct().ToList();
            if (lengths.Count > 1)
                throw new MergeException($"different architectures: the models of a slice have {string.Join(" and ", lengths)} layers");
            foreach (var s in slice.Sources)
                if (s.LayerRange!.Value.End > sources[s.Model].Config.NumHiddenLayers)
                    throw new MergeException($"layer_range [{s.LayerRange.Value.Start}, {s.LayerRange.Value.End}) of '{s.Model}' exceeds its {sources[s.Model].Config.NumHiddenLayers} layers");
            if (config.Method.NeedsBase && slice.Sources.All(s => s.Model != config.BaseModel))
                throw new MergeException($"{config.Method.Name} needs the base model '{config.BaseModel}' among the sources of every slice");
        }

        var reference = sources[config.BaseModel ?? slices[0].Sources[0].Model];
        var names = reference.Checkpoint.Names.Order(StringComparer.Ordinal).ToList();
        var layerSuffixes = names.Select(n => LayerName().Match(n)).Where(m => m.Success && m.Groups[1].Value == "0").Select(m => m.Groups[2].Value).ToList();
        var global = names.Where(n => !LayerName().IsMatch(n)).ToList();
        CheckSameTensors(reference, slices.SelectMany(s => s.Sources).Select(s => sources[s.Model]).Distinct());

        var planned = new List<PlannedTensor>();
        void Add(string name, MergeSlice slice, Func<MergeSource, string> input, double t)
        {
            var inputs = slice.Sources.Select(s => (s, input(s))).ToList();
            var shape = CheckShapes(name, inputs, sources);
            var dtype = config.OutputDType ?? sources[config.BaseModel ?? slice.Sources[0].Model].Checkpoint.Entry(inputs[0].Item2).DType;
            planned.Add(new PlannedTensor(name, slice, inputs, t, new TensorSlot(name, dtype, shape)));
        }

        foreach (var name in global.Where(n => n.Contains("embed_tokens"))) Add(name, slices[0], _ => name, 0);
        var layer = 0;
        foreach (var slice in slices)
        {
            var count = slice.Sources[0].LayerRange!.Value.End - slice.Sources[0].LayerRange!.Value.Start;
            for (var offset = 0; offset < count; offset++, layer++)
                foreach (var suffix in layerSuffixes)
                    Add($"model.layers.{layer}.{suffix}", slice, s => $"model.layers.{s.LayerRange!.Value.Start + offset}.{suffix}", count > 1 ? offset / (double)(count - 1) : 1);
        }
        foreach (var name in global.Where(n => !n.Contains("embed_tokens"))) Add(name, slices[^1], _ => name, 1);
        return (planned, layer);
    }

    /// <summary>Every model must hold the same tensors up to layer numbering (no tensor missing, none extra).</summary>
    private static void CheckSameTensors(SourceModel reference, IEnumerable<SourceModel> models)
    {
        static HashSet<string> Kinds(SourceModel m) => m.Checkpoint.Names.Select(n => LayerName().Replace(n, "model.layers.N.$2")).ToHashSet();
        var expected = Kinds(reference);
        foreach (var m in models)
        {
            var kinds = Kinds(m);
            if (expected.Except(kinds).FirstOrDefault() is { } missing)
                throw new MergeException($"tensor '{missing}' is missing from '{m.Directory}' (present in '{reference.Directory}')");
            if (kinds.Except(expected).FirstOrDefault() is { } extra)
                throw new MergeException($"tensor '{extra}' is missing from '{reference.Directory}' (present in '{m.Directory}')");
        }
    }

    private static long[] CheckShapes(string name, IReadOnlyList<(MergeSource Source, string Input)> inputs, MergeSources sources)
    {
        long[]? shape = null;
        string? first = null;
        foreach (var (source, input) in inputs)
        {
            var checkpoint = sources[source.Model].Checkpoint;
            if (!checkpoint.Contains(input)) throw new MergeException($"tensor '{input}' is missing from '{source.Model}'");
            var s = checkpoint.Entry(input).Shape;
            if (shape is null) (shape, first) = (s, source.Model);
            else if (!shape.SequenceEqual(s))
                throw new MergeException($"tensor '{name}': shape [{string.Join(", ", s)}] in '{source.Model}' differs from [{string.Join(", ", shape)}] in '{first}' (different architectures)");
        }
        return shape!;
    }
}
