using System.CommandLine;
using System.Globalization;
using MultiTeacher.Experiments;
using MultiTeacher.Jobs;
using MultiTeacher.Lineage;
using Spectre.Console;

namespace MultiTeacher.Cli.Commands;

/// <summary>`mt run RECIPE`: train in the foreground through the job system, lineage recorded.</summary>
public static class RunCommand
{
    public static Command Create(CliIO io)
    {
        var file = new Argument<string>("RECIPE") { Description = "Recipe YAML" };
        var resume = new Option<bool>("--resume") { Description = "Continue from the newest checkpoint in the recipe's output directory" };
        var workers = new Option<int>("--workers") { Description = "Stages run at once (teacher caches in parallel)", DefaultValueFactory = _ => 1 };
        var command = new Command("run", "Run a recipe in the foreground: teachers, training, evaluation, student saved as a Hugging Face directory; lineage recorded.")
            { file, resume, workers, DatabaseOption };
        command.SetAction((r, cancel) => Task.FromResult(Run(r.GetValue(file)!, r.GetValue(resume), r.GetValue(DatabaseOption), Math.Max(1, r.GetValue(workers)), io, cancel)));
        return command;
    }

    /// <summary>--database: a PostgreSQL connection string; default MT_DATABASE, else the private server.</summary>
    public static readonly Option<string?> DatabaseOption = new("--database") { Description = "Lineage database connection string (default: $MT_DATABASE, else mt's private PostgreSQL)" };

    /// <summary>
    /// Submit + in-process worker + wait: the run goes through Hangfire like any submitted one, on a
    /// queue private to this invocation so this process executes it. Ctrl+C cancels the run.
    /// </summary>
    private static int Run(string file, bool resume, string? database, int workers, CliIO io, CancellationToken cancel)
    {
        var recipe = CliApp.LoadRecipe(file);
        var connection = RunRecorder.ConnectionString(database);
        io.Out.WriteLine($"recipe {recipe.Name}: {recipe.Teachers.Count} teacher(s), {recipe.Train.Steps} steps → {recipe.Output}");
        var queue = $"local-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}";
        var store = new LineageStore(connection);
        using var progress = RunProgress.For(io, recipe.Output);
        using var worker = JobWorker.Start(connection, [queue], workers, progress.JobLog);
        var client = new JobClient(connection, worker.Storage);
        var runId = client.Submit(recipe, queue, resume);
        progress.JobLog.WriteLine($"run {runId} (lineage recorded; `mt show {runId}`)");
        using (cancel.Register(() => client.Cancel(runId)))
        {
            var final = progress.Follow(store, runId, recipe.Train.Steps);
            if (final.Status != "succeeded")
                throw final.Failure == "bad-input" ? new BadInputException($"run {runId} {final.Status}: {final.Error}")
                    : new RunFailedException($"run {runId} {final.Status}: {final.Error}");
        }
        var table = new Table().Title("Held-out bits per byte").AddColumns("model", "bits/byte");
        foreach (var (name, last, _, _, _) in store.MetricSummary(runId).Where(m => m.Name.StartsWith("bpb:", StringComparison.Ordinal)))
            table.AddRow(Markup.Escape(name["bpb:".Length..]), last.ToString("F4", CultureInfo.InvariantCulture));
        if (table.Rows.Count > 0) io.Tables().Write(table);
        io.Out.WriteLine($"student saved to {Path.Combine(recipe.Output, "student")}");
        return CliApp.Ok;
    }
}
