using Hangfire.PostgreSql;
using Npgsql;

namespace MultiTeacher.Jobs;

/// <summary>How quickly jobs move: how long a fetched job stays invisible to other workers, and how often idle workers look for work.</summary>
public sealed record JobTimings(TimeSpan InvisibilityTimeout, TimeSpan PollInterval)
{
    /// <summary>
    /// A job whose worker died becomes visible again after the invisibility timeout; live workers
    /// keep extending it (sliding), so long training jobs are never taken twice. MT_JOB_INVISIBILITY_S
    /// shortens it (the SIGKILL test does).
    /// </summary>
    public static JobTimings Default()
    {
        var seconds = Environment.GetEnvironmentVariable("MT_JOB_INVISIBILITY_S") is { Length: > 0 } s && double.TryParse(s, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : 300;
        // An idle worker finds a new job within the poll interval: 200 ms keeps a shard's wait for a free worker small
        // against its seconds of work, at five cheap queue queries a second per idle worker.
        return new JobTimings(TimeSpan.FromSeconds(seconds), TimeSpan.FromMilliseconds(200));
    }
}

/// <summary>Hangfire's storage: Hangfire.PostgreSql in the lineage database, in its own schema.</summary>
public static class JobStorage
{
    public const string Schema = "hangfire";

    public static PostgreSqlStorage Create(string connectionString, JobTimings? timings = null)
    {
        timings ??= JobTimings.Default();
        var options = new PostgreSqlStorageOptions
        {
            SchemaName = Schema,
            PrepareSchemaIfNecessary = true,
            InvisibilityTimeout = timings.InvisibilityTimeout,
            UseSlidingInvisibilityTimeout = true,
            QueuePollInterval = timings.PollInterval,
            // Long polling (LISTEN/NOTIFY) left fetched jobs unprocessed in 2 of 4 runs of the 1,000-job
            // benchmark (invisible, never started); plain polling never did in 5.
            EnableLongPolling = false,
            DistributedLockTimeout = TimeSpan.FromMinutes(1),
        };
        return new PostgreSqlStorage(new SharedPoolConnections(connectionString), options);
    }

    /// <summary>
    /// Hangfire's connections from the very connection string the rest of the process uses, so they
    /// come from the same Npgsql pool and its Max Pool Size bounds them together.
    /// </summary>
    private sealed class SharedPoolConnections(string connectionString) : IConnectionFactory
    {
        public NpgsqlConnection GetOrCreateConnection() => new(connectionString);
    }
}
