using YamlDotNet.Serialization;

namespace MultiTeacher.Recipes;

/// <summary>
/// The fully resolved recipe: every default filled in, every path absolute, and the sha256 of every
/// input (data, teachers, student, tokenizers). Its YAML is what a run's lineage stores.
/// </summary>
public sealed record ResolvedRecipe(Recipe Recipe, IReadOnlyDictionary<string, string> Hashes)
{
    public static ResolvedRecipe Resolve(Recipe r) =>
        new(r, Inputs(r).ToDictionary(kv => kv.Key, kv => ContentHash.Of(kv.Value)));

    /// <summary>Every input file or directory of the recipe by key (data.train, teachers.NAME, ...).</summary>
    public static Dictionary<string, string> Inputs(Recipe r)
    {
        var inputs = new Dictionary<string, string?>
        {
            ["data.train"] = r.Data.Train,
            ["data.eval"] = r.Data.Eval,
            ["student.init"] = r.Student.Init,
            ["student.config"] = r.Student.Config,
            ["student.tokenizer"] = r.Student.Tokenizer,
        };
        foreach (var t in r.Teachers) inputs[$"teachers.{t.Name}"] = t.Path;
        return inputs.Where(kv => kv.Value is not null).ToDictionary(kv => kv.Key, kv => kv.Value!);
    }

    public string ToYaml()
    {
        var r = Recipe;
        var tree = new Dictionary<string, object?>
        {
            ["name"] = r.Name,
            ["seed"] = r.Seed,
            ["device"] = r.Device,
            ["threads"] = r.Threads,
            ["deterministic"] = r.Deterministic,
            ["data"] = new Dictionary<string, object?> { ["train"] = r.Data.Train, ["eval"] = r.Data.Eval, ["format"] = r.Data.Format, ["field"] = r.Data.Field, ["seq_len"] = r.Data.SequenceLength, ["packing"] = r.Data.Packing },
            ["teachers"] = r.Teachers.Select(t => new Dictionary<string, object?> { ["name"] = t.Name, ["path"] = t.Path, ["weight"] = t.Weight, ["dtype"] = t.DType }).ToList(),
            ["student"] = new Dictionary<string, object?> { ["init"] = r.Student.Init, ["config"] = r.Student.Config, ["tokenizer"] = r.Student.Tokenizer },
            ["alignment"] = new Dictionary<string, object?> { ["method"] = r.Alignment.Method, ["top_k"] = r.Alignment.TopK, ["tail"] = r.Alignment.Tail },
            ["mixing"] = new Dictionary<string, object?> { ["policy"] = r.Mixing.Policy, ["temperature"] = r.Mixing.Temperature, ["granularity"] = r.Mixing.Granularity },
            ["loss"] = new Dictionary<string, object?> { ["kind"] = r.Loss.Kind, ["temperature"] = r.Loss.Temperature, ["beta"] = r.Loss.Beta, ["hard_label_weight"] = r.Loss.HardLabelWeight },
            ["train"] = new Dictionary<string, object?>
            {
                ["steps"] = r.Train.Steps, ["batch_size"] = r.Train.BatchSize, ["grad_accum"] = r.Train.GradAccum, ["lr"] = r.Train.LearningRate,
                ["warmup_steps"] = r.Train.WarmupSteps, ["schedule"] = r.Train.Schedule, ["weight_decay"] = r.Train.WeightDecay, ["clip"] = r.Train.Clip,
                ["checkpoint_every"] = r.Train.CheckpointEvery, ["log_every"] = r.Train.LogEvery, ["teachers"] = r.Train.TeacherMode,
            },
            ["eval"] = new Dictionary<string, object?> { ["every"] = r.Eval.Every, ["max_bytes"] = r.Eval.MaxBytes },
            ["output"] = r.Output,
            ["hashes"] = Hashes.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToDictionary(kv => kv.Key, kv => (object?)("sha256:" + kv.Value)),
        };
        return $"# resolved from {r.Source}\n" + new SerializerBuilder().Build().Serialize(WithoutNulls(tree));
    }

    /// <summary>Absent optional values are left out, so the YAML reads back as the same recipe.</summary>
    private static object? WithoutNulls(object? node) => node switch
    {
        Dictionary<string, object?> map => map.Where(kv => kv.Value is not null).ToDictionary(kv => kv.Key, kv => WithoutNulls(kv.Value)),
        IEnumerable<Dictionary<string, object?>> list => list.Select(WithoutNulls).ToList(),
        _ => node,
    };
}
