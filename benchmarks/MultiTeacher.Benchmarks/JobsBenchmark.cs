using System.Diagnostics;
using System.Text;
using Hangfire;
using MultiTeacher.Assets;
using MultiTeacher.Lineage;
using Npgsql;

namespace MultiTeacher.Benchmarks;

/// <summary>A job that does nothing but count, so the figure is the scheduler's own cost.</summary>
public static class TrivialJob
{
    private static int _done;
    public static int Done => Volatile.Read(ref _done);
    public static void Run(int i) => Interlocked.Increment(ref _done);
}

/// <summary>
/// 1,000 trivial jobs enqueued and completed through Hangfire.PostgreSql (the storage `mt worker`
/// uses), against the floor of any PostgreSQL-backed queue: the same jobs as rows taken with
/// DELETE ... FOR UPDATE SKIP LOCKED by the same number of workers, same server, same run.
/// </summary>
public static class JobsBenchmark
{
    private const int Jobs = 1_000, Workers = 10;

    public static BenchmarkSection Run(AssetStore _)
    {
        var root = Path.Combine(Path.GetTempPath(), "mt-bench-jobs-" + Guid.NewGuid().ToString("N")[..8]);
        var server = new EmbeddedPostgres(root, port: 55000 + Random.Shared.Next(5000, 6000));
        try
        {
            var connection = server.EnsureRunning();
            Migrator.Apply(connection);
            var (rawEnqueue, rawTotal) = SkipLockedQueue(connection);
            var (hfEnqueue, hfTotal) = Hangfire(connection);

            var md = new StringBuilder();
            md.AppendLine($"Private PostgreSQL 15 over its Unix socket; {Jobs:N0} jobs that do nothing, {Workers} workers, enqueued one by one then drained.");
            md.AppendLine();
            md.AppendLine("| queue | enqueue jobs/s | enqueue + complete jobs/s | ratio (complete) |");
            md.AppendLine("|---|---|---|---|");
            md.AppendLine($"| SKIP LOCKED table, hand-written (baseline) | {Jobs / rawEnqueue:N0} | {Jobs / rawTotal:N0} | 1.0x |");
            md.AppendLine($"| Hangfire.PostgreSql 1.21 (`mt worker`'s storage) | {Jobs / hfEnqueue:N0} | {Jobs / hfTotal:N0} | **{rawTotal / hfTotal:F2}x** |");
            md.AppendLine();
            md.AppendLine("A training stage lasts minutes to hours, so a scheduler cost of milliseconds per job is immaterial; the figure shows the headroom.");
            return new BenchmarkSection("Job throughput", md.ToString());
        }
        finally
        {
            server.Stop();
            Directory.Delete(root, recursive: true);
        }
    }

    private static (double Enqueue, double Total) Hangfire(string connection)
    {
        var storage = MultiTeacher.Jobs.JobStorage.Create(connection);
        var client = new BackgroundJobClient(storage);
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < Jobs; i++) client.Enqueue("bench", () => TrivialJob.Run(i));
        var enqueue = watch.Elapsed.TotalSeconds;
        using (new BackgroundJobServer(new BackgroundJobServerOptions { Queues = ["bench"], WorkerCount = Workers, SchedulePollingInterval = TimeSpan.FromSeconds(1) }, storage))
            while (TrivialJob.Done < Jobs)
            {
                // A job that failed is retried later by Hangfire; a drain that stalls says why instead of waiting forever.
                if (watch.Elapsed > TimeSpan.FromMinutes(3))
                {
                    var monitor = storage.GetMonitoringApi();
                    throw new TimeoutException($"Hangfire completed {TrivialJob.Done} of {Jobs} jobs in 3 min: {monitor.EnqueuedCount("bench")} enqueued, {monitor.ProcessingCount()} processing, {monitor.ScheduledCount()} scheduled for retry, {monitor.FailedCount()} failed");
                }
                Thread.Sleep(1);
            }
        return (enqueue, watch.Elapsed.TotalSeconds);
    }

    private static (double Enqueue, double Total) SkipLockedQueue(string connection)
    {
        using (var c = Open(connection))
            new NpgsqlCommand("CREATE TABLE bench_queue (id bigserial PRIMARY KEY, payload text NOT NULL)", c).ExecuteNonQuery();
        var watch = Stopwatch.StartNew();
        using (var c = Open(connection))
            for (var i = 0; i < Jobs; i++)
            {
                using var insert = new NpgsqlCommand("INSERT INTO bench_queue (payload) VALUES ($1)", c);
                insert.Parameters.Add(new NpgsqlParameter { Value = $"job {i}" });
                insert.ExecuteNonQuery();
            }
        var enqueue = watch.Elapsed.TotalSeconds;
        var done = 0;
        var workers = Enumerable.Range(0, Workers).Select(_ => Task.Run(() =>
        {
            using var c = Open(connection);
            while (new NpgsqlCommand("""
                DELETE FROM bench_queue WHERE id = (SELECT id FROM bench_queue ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1) RETURNING id
                """, c).ExecuteScalar() is not null)
                Interlocked.Increment(ref done);
        })).ToArray();
        Task.WaitAll(workers);
        if (done != Jobs) throw new InvalidOperationException($"SKIP LOCKED queue completed {done} of {Jobs}");
        return (enqueue, watch.Elapsed.TotalSeconds);
    }

    private static NpgsqlConnection Open(string connection)
    {
        var c = new NpgsqlConnection(connection);
        c.Open();
        return c;
    }
}
