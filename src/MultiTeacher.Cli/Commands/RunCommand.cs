using System.CommandLine;
using System.Globalization;
using MultiTeacher.Data;
using MultiTeacher.Cache;
using MultiTeacher.Evaluation;
using MultiTeacher.Jobs;
using MultiTeacher.Lineage;
using MultiTeacher.Models;
using MultiTeacher.Recipes;
using MultiTeacher.Teachers;
using MultiTeacher.Tokenization;
using MultiTeacher.Training;
using Spectre.Console;

namespace MultiTeacher.Cli.Commands;

/// <summary>`mt run RECIPE` trains in the foreground; `mt eval` measures bits per byte of any model directory.</summary>
public static class RunCommand
{
    public static Command CreateRun(CliIO io)
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

    public static Command CreateCache(CliIO io)
    {
        var file = new Argument<string>("RECIPE") { Description = "Recipe YAML" };
        var command = new Command("cache", "Run each teacher once over the recipe's training data and store its top-k (reused by later runs).") { file };
        command.SetAction(r =>
        {
            var recipe = RecipeLoader.Load(r.GetValue(file)!);
            if (recipe.Teachers.Count == 0) throw new BadInputException($"{recipe.Source}: the recipe has no teachers to cache");
            TeacherCaches.EnsureForRecipe(recipe, DistillationRecipe.DeviceOf(recipe.Device), new TeacherHashes(), CacheDirectories.Root(), io.Out);
            return CliApp.Ok;
        });
        return command;
    }

    public static Command CreateEval(CliIO io)
    {
        var model = new Option<string>("--model") { Description = "Model directory (with tokenizer files)", Required = true };
        var data = new Option<string>("--data") { Description = "Text file, JSONL file or directory", Required = true };
        var window = new Option<int>("--window") { Description = "Tokens per scored window", DefaultValueFactory = _ => 256 };
        var maxBytes = new Option<long>("--max-bytes") { Description = "Stop after scoring this many bytes", DefaultValueFactory = _ => 1_000_000 };
        var command = new Command("eval", "Held-out bits per byte and perplexity of a model on a text.") { model, data, window, maxBytes };
        command.SetAction(r =>
        {
            var directory = r.GetValue(model)!;
            using var lm = PretrainedModel.Load(directory);
            var result = BitsPerByte.Evaluate(lm, HfTokenizer.FromDirectory(directory), TextCorpus.Load(r.GetValue(data)!), r.GetValue(window), r.GetValue(maxBytes));
            io.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"bits per byte {result.BitsPerByte:F4}  perplexity {result.Perplexity:F2}  ({result.Tokens:N0} tokens, {result.Bytes:N0} bytes)"));
            return CliApp.Ok;
        });
        return command;
    }

    /// <summary>
    /// Submit + in-process worker + wait: the run goes through Hangfire like any submitted one, on a
    /// queue private to this invocation so this process executes it. Ctrl+C cancels the run.
    /// </summary>
    private static int Run(string file, bool resume, string? database, int workers, CliIO io, CancellationToken cancel)
    {
        var recipe = RecipeLoader.Load(file);
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
