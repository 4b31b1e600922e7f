using System.CommandLine;
using MultiTeacher.Jobs;
using MultiTeacher.Lineage;
using MultiTeacher.Recipes;
using MultiTeacher.Runs;

namespace MultiTeacher.Cli.Commands;

/// <summary>`mt submit`, `mt worker` and `mt cancel`: recipes as Hangfire jobs in the lineage database.</summary>
public static class JobCommands
{
    public static Command CreateSubmit(CliIO io)
    {
        var file = new Argument<string>("RECIPE") { Description = "Recipe YAML" };
        var overrides = RecipeCommand.OverridesArgument();
        var queue = new Option<string?>("--queue") { Description = "Queue (default gpu-0 with CUDA, else cpu)" };
        var resume = new Option<bool>("--resume") { Description = "Start from the newest checkpoint in the recipe's output directory" };
        var command = new Command("submit", "Validate a recipe, record it and enqueue its jobs; prints the run id.") { file, overrides, queue, resume, RunCommand.DatabaseOption };
        command.SetAction(r =>
        {
            var recipe = RecipeLoader.Load(r.GetValue(file)!, r.GetValue(overrides));
            var connection = LineageDatabase.Connect(r.GetValue(RunCommand.DatabaseOption));
            var runId = new JobClient(connection, JobStorage.Create(connection)).Submit(recipe, Queue(r.GetValue(queue)), r.GetValue(resume));
            io.Out.WriteLine(runId);
            return CliApp.Ok;
        });
        return command;
    }

    public static Command CreateWorker(CliIO io)
    {
        var queues = new Option<string?>("--queues") { Description = "Comma-separated queues (default: one gpu-N queue per CUDA device, else cpu)" };
        var workers = new Option<int?>("--workers") { Description = "Concurrent jobs (default: 1 per GPU queue, else 1)" };
        var command = new Command("worker", "Run a Hangfire server that executes submitted runs until stopped (Ctrl+C or SIGTERM).") { queues, workers, RunCommand.DatabaseOption };
        command.SetAction(async (r, cancel) =>
        {
            // Yield first: until this action returns a pending task, Ctrl+C and SIGTERM end the process instead of stopping the worker.
            await Task.Yield();
            var connection = LineageDatabase.Connect(r.GetValue(RunCommand.DatabaseOption));
            var named = r.GetValue(queues) is { } q ? q.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) : null;
            var list = named ?? QueueNames.ForThisMachine();
            var count = r.GetValue(workers) ?? 1;
            if (count < 1) throw new BadInputException("--workers must be at least 1");
            var log = TextWriter.Synchronized(io.Out);
            // Unnamed GPU queues get a server each, so every GPU trains one job at a time.
            using (JobWorker.Start(connection, Checked(list), count, log, serverPerQueue: named is null && list.Length > 1))
            {
                try { await Task.Delay(Timeout.Infinite, cancel); }
                catch (OperationCanceledException) { log.WriteLine("worker stopping: running stages end their current step and checkpoint it"); }
            }
            log.WriteLine("worker stopped");
            return CliApp.Ok;
        });
        return command;
    }

    public static Command CreateCancel(CliIO io)
    {
        var run = new Argument<long>("RUN") { Description = "Run id" };
        var wait = new Option<int>("--wait") { Description = "Seconds to wait for the run to stop", DefaultValueFactory = _ => 120 };
        var command = new Command("cancel", "Cancel a run: waiting stages are dropped, training stops after its current step (checkpointed).") { run, wait, RunCommand.DatabaseOption };
        command.SetAction(r =>
        {
            var connection = LineageDatabase.Connect(r.GetValue(RunCommand.DatabaseOption));
            var id = r.GetValue(run);
            var store = new LineageStore(connection);
            if (store.Run(id) is not { } summary) throw new BadInputException($"no run {id}");
            if (summary.Status.IsFinished()) throw new BadInputException($"run {id} already {Spelling.Of(summary.Status)}");
            new JobClient(connection, JobStorage.Create(connection)).Cancel(id);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(r.GetValue(wait)));
            try
            {
                var final = RunFollower.Wait(store, id, cancel: timeout.Token);
                io.Out.WriteLine($"run {id} {Spelling.Of(final.Status)} after {final.Steps} steps{(final.Error is { } e ? $": {e}" : "")}");
                return final.Status == RunStatus.Cancelled ? CliApp.Ok : CliApp.Failure;
            }
            catch (OperationCanceledException)
            {
                io.Out.WriteLine($"run {id}: cancellation requested; still running after {r.GetValue(wait)} s");
                return CliApp.Failure;
            }
        });
        return command;
    }

    public static string Queue(string? named)
    {
        try { return QueueNames.Check(named ?? QueueNames.Default()); }
        catch (ArgumentException e) { throw new BadInputException(e.Message); }
    }

    private static string[] Checked(string[] queues) => queues.Length == 0 ? throw new BadInputException("--queues names no queue") : queues.Select(q => Queue(q)).ToArray();
}
