using System.CommandLine;
using System.Globalization;
using MultiTeacher.Lineage;
using MultiTeacher.Runs;
using Spectre.Console;

namespace MultiTeacher.Cli.Commands;

/// <summary>`mt show RUN`: a run's inputs and outputs and a summary of its metrics.</summary>
public static class ShowCommand
{
    public static Command Create(CliIO io)
    {
        var run = new Argument<long>("RUN") { Description = "Run id" };
        var command = new Command("show", "A run's inputs and outputs (with sha256) and a summary of its metrics.") { run, CliApp.JsonOption, RunCommand.DatabaseOption };
        command.SetAction(r =>
        {
            var store = new LineageStore(LineageDatabase.Connect(r.GetValue(RunCommand.DatabaseOption)));
            store.FailAbandoned();
            var id = r.GetValue(run);
            var summary = store.Run(id) ?? throw new BadInputException($"no run {id}");
            if (r.GetValue(CliApp.JsonOption))
            {
                io.Out.WriteLine(SpellingJson.Serialize(new
                {
                    Run = summary,
                    Stages = store.Stages(id),
                    Artifacts = store.Artifacts(id),
                    Metrics = store.MetricSummary(id).Select(m => new { m.Name, m.Last, m.Min, m.Max, m.Count }),
                }));
                return CliApp.Ok;
            }
            io.Out.WriteLine(Terminal.Safe($"run {id}: {summary.Recipe}, {Spelling.Of(summary.Status)}, {summary.Steps} steps"));
            io.Out.WriteLine(Terminal.Safe("stages: " + string.Join(", ", store.Stages(id).Select(s => $"{Spelling.Of(s.Kind)} {s.Name} ({Spelling.Of(s.Status)})"))));
            var artifacts = new Table().Title("Inputs and outputs").AddColumns("", "role", "kind", "sha256", "bytes", "path");
            foreach (var a in store.Artifacts(id))
                artifacts.AddRow(Terminal.Cell(a.Direction), Terminal.Cell(a.Role), Terminal.Cell(a.Kind), a.Sha256[..16], a.SizeBytes.ToString("N0"), Terminal.Cell(a.Path));
            io.Tables().Write(artifacts);
            var metrics = new Table().Title("Metrics").AddColumns("name", "last", "min", "max", "steps");
            foreach (var (name, last, min, max, count) in store.MetricSummary(id))
                metrics.AddRow(Terminal.Cell(name), F(last), F(min), F(max), count.ToString());
            io.Tables().Write(metrics);
            return CliApp.Ok;
        });
        return command;
    }

    private static string F(double v) => v.ToString("G5", CultureInfo.InvariantCulture);
}
