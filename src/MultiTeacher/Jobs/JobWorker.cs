using Hangfire;
using Hangfire.PostgreSql;
using MultiTeacher.Teachers;

namespace MultiTeacher.Jobs;

/// <summary>
/// A Hangfire server executing run stages from the given queues. With one server per GPU queue
/// (`mt worker` on a GPU machine), each GPU trains one job at a time.
/// </summary>
public sealed class JobWorker : IDisposable
{
    private readonly List<BackgroundJobServer> _servers = [];
    private WarmTeachers? _warm;

    public PostgreSqlStorage Storage { get; }

    private JobWorker(PostgreSqlStorage storage) => Storage = storage;

    /// <param name="queues">Queues to take jobs from, in priority order.</param>
    /// <param name="workers">Concurrent jobs per server.</param>
    /// <param name="serverPerQueue">One server (with its own workers) per queue, as for one queue per GPU.</param>
    public static JobWorker Start(string connectionString, IReadOnlyList<string> queues, int workers, TextWriter log,
        bool serverPerQueue = false, string? cacheRoot = null, JobTimings? timings = null)
    {
        foreach (var q in queues) QueueNames.Check(q);
        var storage = JobStorage.Create(connectionString, timings);
        var worker = new JobWorker(storage);
        var groups = serverPerQueue ? queues.Select(q => new[] { q }).ToList() : [queues.ToArray()];
        // One loaded teacher per concurrent job: a worker's next shard of the same teacher skips the load.
        worker._warm = new WarmTeachers(workers * groups.Count);
        var context = new JobContext(connectionString, new BackgroundJobClient(storage), log, cacheRoot, worker._warm);
        foreach (var group in groups)
            worker._servers.Add(new BackgroundJobServer(new BackgroundJobServerOptions
            {
                ServerName = $"{Environment.MachineName}:{Environment.ProcessId}:{string.Join(',', group)}",
                Queues = group,
                WorkerCount = workers,
                Activator = new StageJobActivator(context),
                // Each look for due retries is a few PostgreSQL transactions with a distributed lock, from every
                // worker to one database that may share a machine with the jobs; Hangfire's default interval keeps
                // that load low. A retry, due 2 or 10 s after a failure, starts within 15 s of that.
                SchedulePollingInterval = TimeSpan.FromSeconds(15),
                // How soon a deleted (cancelled) running job hears about it; training also checks the run's cancel flag every step.
                CancellationCheckInterval = TimeSpan.FromSeconds(5),
                ShutdownTimeout = TimeSpan.FromSeconds(30),
            }, storage));
        log.WriteLine($"worker {Environment.MachineName}:{Environment.ProcessId}: queues {string.Join(", ", queues)}, {workers} worker(s){(serverPerQueue ? " per queue" : "")}");
        return worker;
    }

    public void Dispose()
    {
        foreach (var s in _servers) s.SendStop();
        foreach (var s in _servers) s.Dispose();
        _warm?.Dispose();
    }

    /// <summary>Builds the job class with what the worker shares; Hangfire would otherwise need a parameterless constructor.</summary>
    private sealed class StageJobActivator(JobContext context) : JobActivator
    {
        public override object ActivateJob(Type jobType) => jobType == typeof(StageJobs) ? new StageJobs(context) : base.ActivateJob(jobType);
    }
}
