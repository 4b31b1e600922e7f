using System.CommandLine;
using MultiTeacher.Jobs;
using MultiTeacher.Lineage;
using MultiTeacher.Runs;

namespace MultiTeacher.Cli.Commands;

/// <summary>`mt cancel RUN`: drop a run's waiting stages and stop its training after the current step.</summary>
public static class CancelCommand
{
    public static Command Create(CliIO io)
    {
        var run = new Argument<long>("RUN") { Description = "Run id" };
        var wait = new Option<int>("--wait") { Description = "Seconds to wait for the run to stop", DefaultValueFactory = _ => 120 };
        var command = new Command("cancel", "Cancel a run: waiting stages are dropped, training stops after its current step (checkpointed).") { run, wait, RunCommand.DatabaseOption };
        command.SetAction(r =>
        {
            var connection = LineageDatabase.Connect(r.GetValue(RunCommand.DatabaseOption));
            var id = r.GetValue(run);
            var store = new LineageStore(connection);
            if (store.Run(id) is not { } summary) throw new BadInputException($"no run {id}");
            if (summary.Status.IsFinished()) throw new BadInputException($"run {id} already {Spelling.Of(summary.Status)}");
            new JobClient(connection, JobStorage.Create(connection)).Cancel(id);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(r.GetValue(wait)));
            try
            {
                var final = RunFollower.Wait(store, id, cancel: timeout.Token);
                io.Out.WriteLine($"run {id} {Spelling.Of(final.Status)} after {final.Steps} steps{(final.Error is { } e ? $": {e}" : "")}");
                return final.Status == RunStatus.Cancelled ? CliApp.Ok : CliApp.Failure;
            }
            catch (OperationCanceledException)
            {
                io.Out.WriteLine($"run {id}: cancellation requested; still running after {r.GetValue(wait)} s");
                return CliApp.Failure;
            }
        });
        return command;
    }
}
