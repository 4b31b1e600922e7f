using System.CommandLine;
using MultiTeacher.Merging;

namespace MultiTeacher.Cli.Commands;

/// <summary>`mt merge CONFIG.yaml OUTPUT_DIR`: a weight-space merge from a mergekit configuration.</summary>
public static class MergeCommand
{
    public static Command Create(CliIO io)
    {
        var config = new Argument<string>("CONFIG") { Description = "mergekit-style YAML merge configuration" };
        var output = new Argument<string>("OUTPUT_DIR") { Description = "Directory to create for the merged model (must not exist)" };
        var seed = new Option<long>("--seed") { Description = "Seed of DARE's random drops (recorded in the output's README.md)", DefaultValueFactory = _ => 0 };
        var shard = new Option<long>("--shard-size-mb") { Description = "Largest output shard in MB; larger outputs are sharded with an index", DefaultValueFactory = _ => 5000 };
        var command = new Command("merge", "Merge models in weight space (linear, slerp, task_arithmetic, ties, dare_ties, dare_linear, model_stock), streaming tensor by tensor.")
        {
            config, output, seed, shard,
        };
        command.SetAction(r =>
        {
            if (r.GetValue(shard) < 1) throw new BadInputException("--shard-size-mb must be at least 1");
            var merge = MergeConfigLoader.Load(r.GetValue(config)!);
            var result = ModelMerger.Run(merge, r.GetValue(output)!, new MergeOptions(r.GetValue(seed), r.GetValue(shard) * 1_000_000));
            io.Out.WriteLine($"merged {result.Tensors} tensors ({result.Bytes / 1e6:N1} MB, {result.Layers} layers, {result.Shards} shard{(result.Shards == 1 ? "" : "s")}) " +
                $"with {merge.Method.Name} into {result.Directory} in {result.Elapsed.TotalSeconds:N1} s");
            return CliApp.Ok;
        });
        return command;
    }
}
