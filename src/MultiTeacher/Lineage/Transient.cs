using System.Net.Sockets;
using Npgsql;

namespace MultiTeacher.Lineage;

/// <summary>Database work that must survive a server restart or a dropped connection: retried until the server is back.</summary>
public static class Transient
{
    /// <summary>Connection-level failures (server down, restarting, socket gone), as opposed to errors in the SQL or the data.</summary>
    public static bool IsTransient(Exception e) => e switch
    {
        PostgresException p => p.SqlState.StartsWith("08", StringComparison.Ordinal) || p.SqlState.StartsWith("57P", StringComparison.Ordinal),
        NpgsqlException n => n.IsTransient || n.InnerException is SocketException or IOException or TimeoutException,
        SocketException or IOException => true,
        _ => false,
    };

    /// <summary>Runs the work, retrying transient failures with backoff for up to <paramref name="patience"/>.</summary>
    public static T Retry<T>(Func<T> work, TimeSpan patience, TextWriter? log = null)
    {
        var deadline = DateTime.UtcNow + patience;
        var delay = TimeSpan.FromMilliseconds(100);
        for (var attempt = 1; ; attempt++)
        {
            try { return work(); }
            catch (Exception e) when (IsTransient(e) && DateTime.UtcNow < deadline)
            {
                // Pooled connections to a restarted server are all dead; drop them rather than fail on each in turn.
                NpgsqlConnection.ClearAllPools();
                if (attempt == 1) log?.WriteLine($"lineage database unreachable ({e.Message}); retrying for up to {patience.TotalSeconds:F0} s");
                Thread.Sleep(delay);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 2000));
            }
        }
    }

    public static void Retry(Action work, TimeSpan patience, TextWriter? log = null) => Retry(() => { work(); return 0; }, patience, log);
}
