using System.CommandLine;
using MultiTeacher.Jobs;
using MultiTeacher.Lineage;

namespace MultiTeacher.Cli.Commands;

/// <summary>`mt worker`: a Hangfire server executing submitted runs until stopped.</summary>
public static class WorkerCommand
{
    public static Command Create(CliIO io)
    {
        var queues = new Option<string?>("--queues") { Description = "Comma-separated queues (default: one gpu-N queue per CUDA device, else cpu)" };
        var workers = new Option<int?>("--workers") { Description = "Concurrent jobs (default: 1 per GPU queue, else 1)" };
        var cacheRoot = new Option<string?>("--cache-root") { Description = "Where teacher caches and projections live, e.g. a shared filesystem every worker mounts (default: $MT_CACHE, else ~/.cache/multiteacher; a recipe's cache_root comes first)" };
        var command = new Command("worker", "Run a Hangfire server that executes submitted runs until stopped (Ctrl+C or SIGTERM).") { queues, workers, cacheRoot, RunCommand.DatabaseOption };
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
            var root = r.GetValue(cacheRoot) is { } given ? Path.GetFullPath(given) : null;
            using (JobWorker.Start(connection, Checked(list), count, log, serverPerQueue: named is null && list.Length > 1, cacheRoot: root))
            {
                try { await Task.Delay(Timeout.Infinite, cancel); }
                catch (OperationCanceledException) { log.WriteLine("worker stopping: running stages end their current step and checkpoint it"); }
            }
            log.WriteLine("worker stopped");
            return CliApp.Ok;
        });
        return command;
    }

    private static string[] Checked(string[] queues) => queues.Length == 0 ? throw new BadInputException("--queues names no queue") : queues.Select(q => SubmitCommand.Queue(q)).ToArray();
}
