using System.Globalization;
using System.Net;
using MultiTeacher.Lineage;
using MultiTeacher.Runtime;
using MultiTeacher.Tests.Jobs;
using MultiTeacher.Tests.Lineage;
using static MultiTeacher.Tests.Jobs.JobHarness;

namespace MultiTeacher.Tests.Dashboard;

/// <summary>
/// `mt dashboard` runs every thread at the lowest CPU priority, those it starts while serving as
/// well, so training on the same cores goes first. Read from the kernel (/proc), not from the code
/// that set it.
/// </summary>
[Trait("Category", TestCategory.Database)]
[Collection("postgres")]
public sealed class DashboardPriorityTests(PostgresFixture postgres)
{
    /// <summary>The nice value of each thread of a process, from field 19 of /proc/PID/task/TID/stat.</summary>
    private static Dictionary<int, int> NiceOfThreads(int pid)
    {
        var result = new Dictionary<int, int>();
        foreach (var task in Directory.GetDirectories($"/proc/{pid}/task"))
        {
            try { result[int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture)] = NiceIn(File.ReadAllText(Path.Combine(task, "stat"))); }
            catch (IOException) { }   // the thread ended while being listed
        }
        return result;
    }

    // The command name (field 2) is in parentheses and may hold spaces; fields 3 on follow the last ')'.
    private static int NiceIn(string stat) => int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[19 - 3], CultureInfo.InvariantCulture);

    [Fact]
    public async Task EveryThread_RunsAtTheLowestPriority_ThoseStartedWhileServingToo()
    {
        // The dashboard starts at the nice value of the thread that starts it: this one.
        var own = NiceIn(File.ReadAllText("/proc/thread-self/stat"));
        Assert.True(own < ThreadNice.Lowest, $"the test already runs at nice {own}: nothing left to lower");
        var db = postgres.NewDatabase();
        Migrator.Apply(db);
        var port = DashboardSession.FreePort();
        using var dashboard = new MtProcess(["dashboard", "--urls", $"http://127.0.0.1:{port}", "--database", db],
            new Dictionary<string, string> { ["MALLOC_ARENA_MAX"] = "1" });   // no relaunch: this process is the dashboard
        using var http = new HttpClient();
        WaitUntil(() => { try { return http.GetAsync($"http://127.0.0.1:{port}/").Result.IsSuccessStatusCode; } catch (AggregateException) { return false; } },
            what: "the dashboard to serve");
        var atStart = NiceOfThreads(dashboard.Pid);

        // A burst of requests makes the server start more threads than it had.
        var responses = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => http.GetAsync($"http://127.0.0.1:{port}/{(i % 2 == 0 ? "" : "hangfire")}")));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var afterBurst = NiceOfThreads(dashboard.Pid);

        Assert.True(atStart.Count > 5, $"{atStart.Count} threads");
        Assert.All(atStart.Concat(afterBurst), t => Assert.True(t.Value == ThreadNice.Lowest, $"thread {t.Key} at nice {t.Value}"));
        dashboard.Send(15);
        WaitUntil(() => dashboard.HasExited, seconds: 30, what: "the dashboard to stop");
    }

    [Fact]
    public void NiceOutOfRange_IsBadInput()
    {
        var db = postgres.NewDatabase();
        Migrator.Apply(db);
        var (code, _, error) = Cli.CliRunner.Run("", "dashboard", "--nice", "20", "--database", db);
        Assert.Equal(2, code);
        Assert.Contains("nice 20 is not between 0 and 19", error);
    }
}
