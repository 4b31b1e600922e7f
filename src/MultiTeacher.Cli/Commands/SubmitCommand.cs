using System.CommandLine;
using MultiTeacher.Jobs;
using MultiTeacher.Lineage;

namespace MultiTeacher.Cli.Commands;

/// <summary>`mt submit RECIPE`: validate, record and enqueue a recipe's jobs in the lineage database.</summary>
public static class SubmitCommand
{
    public static Command Create(CliIO io)
    {
        var file = new Argument<string>("RECIPE") { Description = "Recipe YAML" };
        var overrides = RecipeCommand.OverridesArgument();
        var queue = new Option<string?>("--queue") { Description = "Queue (default gpu-0 with CUDA, else cpu)" };
        var resume = new Option<bool>("--resume") { Description = "Start from the newest checkpoint in the recipe's output directory" };
        var cacheRoot = new Option<string?>("--cache-root") { Description = "Where the workers keep teacher caches (their --cache-root): a sharded cache's shard texts are written there (default: $MT_CACHE, else ~/.cache/multiteacher; a recipe's cache_root comes first)" };
        var command = new Command("submit", "Validate a recipe or pipeline, record it and enqueue its jobs; prints the run id.") { file, overrides, queue, resume, cacheRoot, RunCommand.DatabaseOption };
        command.SetAction(r =>
        {
            var path = r.GetValue(file)!;
            if (Pipelines.PipelineLoader.IsPipeline(path))
            {
                if (r.GetValue(resume)) throw new BadInputException("--resume continues a recipe's run; a pipeline's stages retry on their own");
                if (r.GetValue(cacheRoot) is not null) throw new BadInputException("--cache-root places a recipe's shard texts; a pipeline has none");
                var pipeline = CliApp.LoadPipeline(path, r.GetValue(overrides));
                var db = LineageDatabase.Connect(r.GetValue(RunCommand.DatabaseOption));
                io.Out.WriteLine(new JobClient(db, JobStorage.Create(db)).Submit(pipeline, Queue(r.GetValue(queue))));
                return CliApp.Ok;
            }
            var recipe = CliApp.LoadRecipe(path, r.GetValue(overrides));
            var connection = LineageDatabase.Connect(r.GetValue(RunCommand.DatabaseOption));
            var runId = new JobClient(connection, JobStorage.Create(connection)).Submit(recipe, Queue(r.GetValue(queue)), r.GetValue(resume),
                cacheRoot: r.GetValue(cacheRoot) is { } root ? Path.GetFullPath(root) : null);
            io.Out.WriteLine(runId);
            return CliApp.Ok;
        });
        return command;
    }

    /// <summary>A queue name as given (or the machine's default), checked.</summary>
    public static string Queue(string? named)
    {
        try { return QueueNames.Check(named ?? QueueNames.Default()); }
        catch (ArgumentException e) { throw new BadInputException(e.Message); }
    }
}
