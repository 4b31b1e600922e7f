using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using MultiTeacher.Audit;
using MultiTeacher.Lineage;
using Spectre.Console;

namespace MultiTeacher.Cli.Commands;

/// <summary>`mt audit RUN`: integrity, replay, environment and a verdict, stored with the run.</summary>
public static class AuditCommand
{
    public static Command Create(CliIO io)
    {
        var run = new Argument<long>("RUN") { Description = "Run id" };
        var steps = new Option<int?>("--steps") { Description = "Replay only the first N steps (default: all, and compare the student's hash)" };
        var threads = new Option<int?>("--threads") { Description = "CPU threads for the replay (default: the run's recorded count)" };
        var tolerance = new Option<double>("--tolerance") { Description = "Largest relative loss difference judged within tolerance", DefaultValueFactory = _ => 1e-4 };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON" };
        var command = new Command("audit", "Re-hash a run's inputs and outputs, replay it, compare step by step and give a verdict. " +
            "Exit code: 0 reproduced, 3 within-tolerance, 4 diverged, 5 tampered, 6 incomplete.") { run, steps, threads, tolerance, json, RunCommand.DatabaseOption };
        command.SetAction(r =>
        {
            var store = new LineageStore(LineageDatabase.Connect(r.GetValue(RunCommand.DatabaseOption)));
            var id = r.GetValue(run);
            if (r.GetValue(steps) is < 1 || r.GetValue(threads) is < 1) throw new BadInputException("--steps and --threads must be at least 1");
            AuditReport report;
            try { report = RunAuditor.Audit(store, id, new AuditOptions(r.GetValue(steps), r.GetValue(threads), r.GetValue(tolerance)), r.GetValue(json) ? TextWriter.Null : io.Out); }
            catch (ArgumentException e) { throw new BadInputException(e.Message); }
            if (r.GetValue(json)) io.Out.WriteLine(JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
            else Print(io, report);
            return report.ExitCode;
        });
        return command;
    }

    private static void Print(CliIO io, AuditReport report)
    {
        var console = io.Tables();
        var files = new Table().Title("Integrity").AddColumns("", "role", "kind", "check", "path");
        foreach (var f in report.Integrity)
            files.AddRow(f.Direction, Terminal.Cell(f.Role), f.Kind, f.Problem + (f.Files.Count > 0 ? ": " + Terminal.Cell(string.Join(", ", f.Files)) : ""), Terminal.Cell(f.Path));
        console.Write(files);
        if (report.Replay is { } replay)
        {
            var table = new Table().Title("Replay").AddColumns("", "value");
            table.AddRow("steps compared", $"{replay.StepsCompared} of {replay.StepsRecorded}{(replay.Full ? " (full)" : "")}, {replay.Threads} thread(s)");
            table.AddRow("metric values compared", replay.MetricsCompared.ToString(CultureInfo.InvariantCulture));
            table.AddRow("first divergence", replay.FirstDivergence is { } d
                ? Terminal.Cell(string.Create(CultureInfo.InvariantCulture, $"step {d.Step} {d.Metric}: {d.Recorded:R} → {d.Replayed:R} (|Δ| {d.Difference:E2})")) : "none");
            table.AddRow("|Δ loss| mean / p95 / max", string.Create(CultureInfo.InvariantCulture, $"{replay.Loss.Mean:E2} / {replay.Loss.P95:E2} / {replay.Loss.Max:E2}"));
            if (replay.Full) table.AddRow("student sha256", replay.StudentSha256Recorded == replay.StudentSha256Replayed ? "identical" : $"recorded {replay.StudentSha256Recorded?[..16]}, replayed {replay.StudentSha256Replayed?[..16]}");
            console.Write(table);
        }
        if (report.Environment.Count > 0)
        {
            var env = new Table().Title("Environment differences").AddColumns("fact", "recorded", "now");
            foreach (var d in report.Environment) env.AddRow(Terminal.Cell(d.Key), Terminal.Cell(d.Recorded), Terminal.Cell(d.Current));
            console.Write(env);
        }
        else io.Out.WriteLine("environment: identical to the recorded one");
        io.Out.WriteLine($"verdict: {report.Verdict} ({report.Reason})");
    }
}
