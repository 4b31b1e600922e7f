using System.CommandLine;
using MultiTeacher.Lineage;
using MultiTeacher.Runs;
using Spectre.Console;

namespace MultiTeacher.Cli.Commands;

/// <summary>`mt runs`: the recorded runs, newest first.</summary>
public static class RunsCommand
{
    public static Command Create(CliIO io)
    {
        var limit = new Option<int>("--limit") { Description = "How many runs, newest first", DefaultValueFactory = _ => 50 };
        var command = new Command("runs", "List recorded runs, newest first.") { limit, CliApp.JsonOption, RunCommand.DatabaseOption };
        command.SetAction(r =>
        {
            var store = new LineageStore(LineageDatabase.Connect(r.GetValue(RunCommand.DatabaseOption)));
            store.FailAbandoned();
            var runs = store.Runs(r.GetValue(limit));
            if (r.GetValue(CliApp.JsonOption))
            {
                io.Out.WriteLine(SpellingJson.Serialize(runs));
                return CliApp.Ok;
            }
            var table = new Table().AddColumns("run", "recipe", "status", "steps", "created", "finished");
            foreach (var run in runs)
                table.AddRow(run.Id.ToString(), Terminal.Cell(run.Recipe), Spelling.Of(run.Status), run.Steps.ToString(), $"{run.CreatedAt:yyyy-MM-dd HH:mm:ss}", run.FinishedAt is { } f ? $"{f:HH:mm:ss}" : "-");
            io.Tables().Write(table);
            return CliApp.Ok;
        });
        return command;
    }
}
