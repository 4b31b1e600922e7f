using System.Runtime.CompilerServices;
using MultiTeacher.Lineage;

namespace MultiTeacher.Tests;

/// <summary>
/// The test run's own data directory, database and caches: before any test, MT_DATA and MT_CACHE
/// point into a fresh temporary directory and MT_DATABASE is cleared, so no test (nor any `mt`
/// process a test starts, which inherits them) reads or writes the user's lineage database or caches.
/// A private server started there is stopped, and the directory removed, when the run ends.
/// </summary>
public static class TestDataDirectory
{
    public static string Root { get; private set; } = "";

    /// <summary>The MT_DATA the test process found, before it replaced them.</summary>
    public static string? UsersData { get; private set; }

    [ModuleInitializer]
    public static void Isolate()
    {
        UsersData = Environment.GetEnvironmentVariable("MT_DATA");
        // Not created with owner-only rights: as root, the private server runs as the postgres user, who must enter it.
        Root = Path.Combine(Path.GetTempPath(), "mt-tests-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Root);
        Environment.SetEnvironmentVariable("MT_DATA", Path.Combine(Root, "data"));
        Environment.SetEnvironmentVariable("MT_CACHE", Path.Combine(Root, "cache"));
        Environment.SetEnvironmentVariable("MT_DATABASE", null);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { EmbeddedPostgres.Default().Stop(); } catch (Exception) { /* nothing was started there */ }
            try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        };
    }
}
