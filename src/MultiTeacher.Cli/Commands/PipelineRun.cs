using System.Globalization;
using MultiTeacher.Jobs;
using MultiTeacher.Lineage;
using MultiTeacher.Pipelines;
using MultiTeacher.Runs;
using MultiTeacher.Training;
using Spectre.Console;

namespace MultiTeacher.Cli.Commands;

/// <summary>`mt run PIPELINE`: every stage a job on a private in-process worker, in dependency order; prints the stages and the evaluations.</summary>
public static class PipelineRun
{
    public static int Run(string file, string[] overrides, string? database, int workers, CliIO io, CancellationToken cancel)
    {
        var pipeline = CliApp.LoadPipeline(file, overrides);
        var output = pipeline.Settings.Output;
        using var outputLock = OutputLock.Take(output);
        var connection = LineageDatabase.Connect(database);
        io.Out.WriteLine($"pipeline {pipeline.Name}: {string.Join(" → ", pipeline.Order.Select(s => $"{s} ({Spelling.Of(Pipeline.StageKindOf(pipeline.Stage(s).Kind))})"))} → {output}");
        var queue = $"local-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}";
        var store = new LineageStore(connection);
        using var progress = RunProgress.For(io, output);
        using var worker = JobWorker.Start(connection, [queue], workers, progress.JobLog);
        var client = new JobClient(connection, worker.Storage);
        var runId = client.Submit(pipeline, queue, ownedHere: true);
        progress.JobLog.WriteLine($"run {runId} (lineage recorded; `mt show {runId}`)");
        var steps = pipeline.Settings.Stages.Sum(s => s.Recipe?.Train.Steps ?? 0);
        using (cancel.Register(() => client.Cancel(runId))) RunCommand.Check(runId, progress.Follow(store, runId, Math.Max(1, steps)));

        var stages = new Table().Title($"Pipeline run {runId}").AddColumns("stage", "kind", "run", "output");
        foreach (var s in store.PipelineStages(runId))
            stages.AddRow(Terminal.Cell(s.Name), Spelling.Of(s.Kind), s.StageRun?.ToString(CultureInfo.InvariantCulture) ?? "-", Terminal.Cell(pipeline.OutputOf(s.Name)));
        io.Tables().Write(stages);
        foreach (var s in store.PipelineStages(runId).Where(s => s.Kind == StageKind.Evaluate && s.StageRun is not null))
            io.Tables().Write(Evaluation(store, s.StageRun!.Value, s.Name));
        return CliApp.Ok;
    }

    /// <summary>An evaluate stage's figures: one row per model, one column per text (bpb/MODEL/heldout_TEXT).</summary>
    private static Table Evaluation(LineageStore store, long stageRun, string stage)
    {
        var figures = store.MetricSummary(stageRun).Select(m => (Parts: MetricNames.Member(m.Name, MetricNames.BitsPerByteGroup)?.Split("/heldout_"), m.Last))
            .Where(m => m.Parts is { Length: 2 }).ToList();
        var texts = figures.Select(f => f.Parts![1]).Distinct().ToList();
        var table = new Table().Title($"{stage}: held-out bits per byte (lower is better)").AddColumn("model");
        foreach (var t in texts) table.AddColumn(t);
        foreach (var model in figures.Select(f => f.Parts![0]).Distinct())
            table.AddRow([Terminal.Cell(model), .. texts.Select(t => figures.First(f => f.Parts![0] == model && f.Parts[1] == t).Last.ToString("F4", CultureInfo.InvariantCulture))]);
        return table;
    }
}
