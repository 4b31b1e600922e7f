using System.CommandLine;
using System.Globalization;
using MultiTeacher.Experiments;
using MultiTeacher.Jobs;
using MultiTeacher.Lineage;
using MultiTeacher.Training;
using Spectre.Console;
using MultiTeacher.Runs;

namespace MultiTeacher.Cli.Commands;

/// <summary>`mt run RECIPE`: train in the foreground through the job system, lineage recorded.</summary>
public static class RunCommand
{
    public static Command Create(CliIO io)
    {
        var file = new Argument<string>("RECIPE") { Description = "Recipe YAML" };
        var overrides = RecipeCommand.OverridesArgument();
        var resume = new Option<bool>("--resume") { Description = "Continue from the newest checkpoint in the recipe's output directory" };
        var workers = new Option<int>("--workers") { Description = "Stages run at once (teacher caches in parallel)", DefaultValueFactory = _ => 1 };
        var command = new Command("run", "Run a recipe in the foreground: teachers, training, evaluation, student saved as a Hugging Face directory; lineage recorded.")
            { file, overrides, resume, workers, DatabaseOption };
        // On a thread of its own, so the invocation returns at once and Ctrl+C or SIGTERM reach `cancel` (not the runtime's default exit).
        command.SetAction((r, cancel) => Task.Run(() => Run(r.GetValue(file)!, r.GetValue(overrides) ?? [], r.GetValue(resume), r.GetValue(DatabaseOption), Math.Max(1, r.GetValue(workers)), io, cancel), CancellationToken.None));
        return command;
    }

    /// <summary>--database: a PostgreSQL connection string; default MT_DATABASE, else the private server.</summary>
    public static readonly Option<string?> DatabaseOption = new("--database") { Description = "Lineage database connection string (default: $MT_DATABASE, else mt's private PostgreSQL)" };

    /// <summary>Throws unless the run succeeded: exit 2 when its input was at fault, else 1.</summary>
    public static void Check(long runId, RunSummary final)
    {
        if (final.Status != RunStatus.Succeeded)
            throw final.Failure == RunFailure.BadInput ? new BadInputException($"run {runId} {Spelling.Of(final.Status)}: {final.Error}")
                : new RunFailedException($"run {runId} {Spelling.Of(final.Status)}: {final.Error}");
    }

    /// <summary>
    /// Submit + in-process worker + wait: the run goes through Hangfire like any submitted one, on a
    /// queue private to this invocation so this process executes it. Ctrl+C cancels the run.
    /// </summary>
    private static int Run(string file, string[] overrides, bool resume, string? database, int workers, CliIO io, CancellationToken cancel)
    {
        if (Pipelines.PipelineLoader.IsPipeline(file))
            return resume ? throw new BadInputException("--resume continues a recipe's run; a pipeline's stages retry on their own") : PipelineRun.Run(file, overrides, database, workers, io, cancel);
        var recipe = CliApp.LoadRecipe(file, overrides);
        // Refused before anything is recorded when another run writes the same output directory.
        using var outputLock = OutputLock.Take(recipe.Output);
        var connection = LineageDatabase.Connect(database);
        io.Out.WriteLine($"recipe {recipe.Name}: {recipe.Teachers.Count} teacher(s), {recipe.Train.Steps} steps → {recipe.Output}");
        var queue = $"local-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}";
        var store = new LineageStore(connection);
        using var progress = RunProgress.For(io, recipe.Output);
        using var worker = JobWorker.Start(connection, [queue], workers, progress.JobLog);
        var client = new JobClient(connection, worker.Storage);
        var runId = client.Submit(recipe, queue, resume, ownedHere: true);
        progress.JobLog.WriteLine($"run {runId} (lineage recorded; `mt show {runId}`)");
        using (cancel.Register(() => client.Cancel(runId)))
        {
            Check(runId, progress.Follow(store, runId, recipe.Train.Steps));
        }
        var table = new Table().Title("Held-out bits per byte").AddColumns("model", "bits/byte");
        foreach (var (name, last, _, _, _) in store.MetricSummary(runId).Where(m => MetricNames.Member(m.Name, MetricNames.BitsPerByteGroup) is not null))
            table.AddRow(Terminal.Cell(MetricNames.Member(name, MetricNames.BitsPerByteGroup)!), last.ToString("F4", CultureInfo.InvariantCulture));
        if (table.Rows.Count > 0) io.Tables().Write(table);
        io.Out.WriteLine($"student saved to {Path.Combine(recipe.Output, "student")}");
        return CliApp.Ok;
    }
}
