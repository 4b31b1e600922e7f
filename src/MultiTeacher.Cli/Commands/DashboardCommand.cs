using System.CommandLine;
using MultiTeacher.Dashboard;
using MultiTeacher.Lineage;

namespace MultiTeacher.Cli.Commands;

/// <summary>`mt dashboard`: runs, live curves, lineage graph and the Hangfire dashboard in one local site.</summary>
public static class DashboardCommand
{
    public static Command Create(CliIO io)
    {
        var urls = new Option<string>("--urls") { Description = "Addresses to listen on, ';'-separated", DefaultValueFactory = _ => "http://127.0.0.1:5080" };
        var token = new Option<string?>("--auth-token") { Description = "Token every request must carry (required for a non-loopback address; default $MT_DASHBOARD_TOKEN)" };
        var readOnly = new Option<bool>("--read-only") { Description = "No cancel or retry buttons, here or in Hangfire" };
        var allowedHosts = new Option<string?>("--allowed-hosts") { Description = "Host names requests may use besides loopback and the --urls hosts, ';'-separated (others get 400)" };
        var nice = new Option<int>("--nice") { Description = "CPU priority of the dashboard's threads, 0 (as started) to 19 (lowest: yields to training)", DefaultValueFactory = _ => MultiTeacher.Runtime.ThreadNice.Lowest };
        var command = new Command("dashboard", "Serve the job dashboard: runs, live training curves, lineage graph, teacher contribution, audits, Hangfire at /hangfire.")
            { urls, token, readOnly, allowedHosts, nice, RunCommand.DatabaseOption };
        command.SetAction(async (r, cancel) =>
        {
            var settings = new DashboardSettings(LineageDatabase.Connect(r.GetValue(RunCommand.DatabaseOption)),
                r.GetValue(urls)!.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                r.GetValue(token) ?? Environment.GetEnvironmentVariable("MT_DASHBOARD_TOKEN"), r.GetValue(readOnly), Cache.CacheDirectories.Root())
            {
                AllowedHosts = (r.GetValue(allowedHosts) ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                Nice = r.GetValue(nice),
            };
            Microsoft.AspNetCore.Builder.WebApplication built;
            try { built = DashboardApp.Build(settings); }
            catch (ArgumentException e) { throw new BadInputException(e.Message); }
            // Disposed, not only stopped: until the host is disposed its console lifetime holds process exit.
            await using var app = built;
            try { await app.StartAsync(cancel); }
            catch (IOException e)
            {
                // Typically the port is taken by another process: the user's to fix, so exit 2 with Kestrel's one-line reason.
                throw new BadInputException($"cannot listen on {string.Join(", ", settings.Urls)}: {e.Message}");
            }
            io.Out.WriteLine($"dashboard on {string.Join(", ", settings.Urls)} (Hangfire at /hangfire){(settings.ReadOnly ? ", read-only" : "")}; Ctrl+C stops it");
            try { await Task.Delay(Timeout.Infinite, cancel); }
            catch (OperationCanceledException) { }
            await app.StopAsync();
            return CliApp.Ok;
        });
        return command;
    }
}
