using System.Net;

namespace MultiTeacher.Dashboard;

/// <summary>How the dashboard is served: addresses, the access token (required off loopback), read-only mode.</summary>
public sealed record DashboardSettings(string ConnectionString, IReadOnlyList<string> Urls, string? AuthToken, bool ReadOnly, string CacheRoot)
{
    /// <summary>Refuses a non-loopback address without a token: the dashboard shows recipes, paths and can cancel runs.</summary>
    public void Validate()
    {
        if (Nice is < 0 or > MultiTeacher.Runtime.ThreadNice.Lowest) throw new ArgumentException($"nice {Nice} is not between 0 and {MultiTeacher.Runtime.ThreadNice.Lowest}");
        foreach (var url in Urls)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                throw new ArgumentException($"'{url}' is not an http(s) address");
            if (!IsLoopback(uri.Host) && string.IsNullOrEmpty(AuthToken))
                throw new ArgumentException($"{url} is not a loopback address: start with --auth-token TOKEN (or MT_DASHBOARD_TOKEN)");
        }
    }

    private static bool IsLoopback(string host) => host == "localhost" || IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip);

    /// <summary>Host names accepted besides loopback and the hosts of <see cref="Urls"/> (the names a proxy or a LAN uses).</summary>
    public IReadOnlyList<string> AllowedHosts { get; init; } = [];

    /// <summary>
    /// Connections the dashboard may hold at once, pages and Hangfire together: under load requests
    /// wait for a free connection instead of taking the server's last ones from training jobs.
    /// </summary>
    public int MaxConnections { get; init; } = 16;

    /// <summary>
    /// Hangfire pages served at once; the rest wait their turn in memory. A Hangfire page can hold two
    /// connections at once (its statistics open a queue query inside another), so with more of them
    /// than half the pool, each could hold one connection while waiting for a second: a deadlock that
    /// ends only in pool timeouts. MultiTeacher's own pages hold one connection at a time and need no turn.
    /// </summary>
    public int MaxConcurrentHangfireRequests => Math.Max(1, MaxConnections / 2);

    /// <summary>Where the pinned browser libraries (web/uplot, web/dagre) are read from: the asset cache of `mt assets fetch`.</summary>
    public string AssetRoot { get; init; } = MultiTeacher.Assets.AssetStore.DefaultRoot();

    /// <summary>
    /// Requests served at once; the rest wait their turn in memory. The dashboard usually shares the
    /// machine with training: served without a bound, a burst of page requests takes every core and
    /// the training slows to a fraction of its speed.
    /// </summary>
    public int MaxConcurrentRequests { get; init; } = Math.Max(1, Environment.ProcessorCount / 2);

    /// <summary>
    /// The nice value every thread of the dashboard's process runs at (19, the lowest priority, by
    /// default; 0 leaves it as started). The dashboard usually shares the machine with training:
    /// at nice 19 it takes the CPU time training leaves idle and, when both want a core, about 1.5%
    /// of it (the kernel's weights: 15 against 1024 for nice 0). Pages stay quick when the cores
    /// are idle and slow down, rather than slowing the training, when they are not.
    /// </summary>
    public int Nice { get; init; } = MultiTeacher.Runtime.ThreadNice.Lowest;

    /// <summary>How the dashboard's connections are named in pg_stat_activity.</summary>
    public const string ApplicationName = "mt-dashboard";

    /// <summary>The connection string every part of the dashboard uses, so they share one bounded pool.</summary>
    public string PooledConnectionString => new Npgsql.NpgsqlConnectionStringBuilder(ConnectionString)
    {
        MaxPoolSize = MaxConnections,
        MinPoolSize = 0,
        Timeout = 30,
        ApplicationName = ApplicationName,
    }.ConnectionString;

    /// <summary>Cancel needs anti-forgery always, and the token too when one is set; read-only mode has no mutations at all.</summary>
    public bool AllowsMutations => !ReadOnly;
}
