using System.Globalization;

namespace MultiTeacher.Lineage;

/// <summary>
/// A process as lineage records an owner: host, pid and start time (clock ticks after boot), so that
/// whether it still runs can be checked from the same host, and a reused pid is not taken for it.
/// </summary>
public sealed record ProcessIdentity(string Host, int Pid, long StartTicks)
{
    public static ProcessIdentity Current { get; } = Of(System.Environment.ProcessId) ?? new(System.Net.Dns.GetHostName(), System.Environment.ProcessId, 0);

    /// <summary>A running process of this host; null when there is none with that pid.</summary>
    public static ProcessIdentity? Of(int pid) => StartTicksOf(pid) is { } ticks ? new(System.Net.Dns.GetHostName(), pid, ticks) : null;

    /// <summary>True while the process runs, false once it is gone (or a zombie); null when it is on another host, or /proc is not there to ask.</summary>
    public bool? IsAlive() => Host != Current.Host || !OperatingSystem.IsLinux() ? null : StartTicksOf(Pid) == StartTicks;

    public override string ToString() => $"{Host}:{Pid}";

    /// <summary>Field 22 of /proc/PID/stat; null for a process that does not exist or has exited (state Z or X).</summary>
    private static long? StartTicksOf(int pid)
    {
        string stat;
        try { stat = File.ReadAllText($"/proc/{pid}/stat"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
        // The command name (field 2) is in parentheses and may hold spaces; the fields after it are plain.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return fields[0] is "Z" or "X" ? null : long.Parse(fields[19], CultureInfo.InvariantCulture);
    }
}
