using MultiTeacher.Jobs;
using MultiTeacher.Lineage;
using Spectre.Console;
using MultiTeacher.Runs;

namespace MultiTeacher.Cli.Commands;

/// <summary>
/// How `mt run` shows a run: on a terminal, a progress bar (stage, step, ETA) with the job log in
/// OUTPUT/logs/run.log; otherwise the job log itself, line by line, on standard output.
/// </summary>
public sealed class RunProgress : IDisposable
{
    private readonly IAnsiConsole? _terminal;
    private readonly StreamWriter? _file;

    /// <summary>Where the jobs of this run write their log.</summary>
    public TextWriter JobLog { get; }

    private RunProgress(TextWriter log, IAnsiConsole? terminal, StreamWriter? file) => (JobLog, _terminal, _file) = (log, terminal, file);

    public static RunProgress For(CliIO io, string output)
    {
        if (!ReferenceEquals(io.Out, Console.Out) || Console.IsOutputRedirected)
            return new RunProgress(TextWriter.Synchronized(io.Out), null, null);
        var path = Path.Combine(output, "logs", "run.log");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var file = new StreamWriter(path, append: true) { AutoFlush = true };
        io.Out.WriteLine($"log: {path}");
        return new RunProgress(TextWriter.Synchronized(file), AnsiConsole.Console, file);
    }

    /// <summary>Waits for the run to end, drawing the bar when on a terminal.</summary>
    public RunSummary Follow(LineageStore store, long runId, int steps)
    {
        if (_terminal is null) return RunFollower.Wait(store, runId);
        RunSummary? final = null;
        _terminal.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                var bar = ctx.AddTask($"run {runId}", maxValue: steps);
                final = RunFollower.Wait(store, runId, run =>
                {
                    var stages = store.Stages(runId).Where(s => s.Status == StageStatus.Running).Select(s => $"{Spelling.Of(s.Kind)} {s.Name}");
                    bar.Description = Markup.Escape($"run {runId} {Spelling.Of(run.Status)}: {string.Join(", ", stages)}  step {Math.Min(run.Steps, steps)}/{steps}");
                    bar.Value = Math.Min(run.Steps, steps);
                });
                bar.StopTask();
            });
        return final!;
    }

    public void Dispose() => _file?.Dispose();
}
