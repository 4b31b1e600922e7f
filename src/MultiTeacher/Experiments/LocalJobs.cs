using MultiTeacher.Jobs;
using MultiTeacher.Lineage;
using MultiTeacher.Pipelines;
using MultiTeacher.Recipes;
using MultiTeacher.Runs;

namespace MultiTeacher.Experiments;

/// <summary>A run ended failed or cancelled; the message says how (exit code 1).</summary>
public sealed class RunFailedException(string message) : Exception(message);

/// <summary>
/// Runs recipes and pipelines one after another as submitted Hangfire jobs on a private in-process worker, so
/// every run of a batch (demo, experiment) is recorded in lineage like any other.
/// </summary>
public sealed class LocalJobs : IDisposable
{
    private readonly string _queue;
    private readonly JobWorker _worker;
    private readonly JobClient _client;

    public LineageStore Lineage { get; }

    public LocalJobs(string queuePrefix, string? database = null)
    {
        var connection = LineageDatabase.Connect(database);
        Lineage = new LineageStore(connection);
        _queue = $"{queuePrefix}-{Environment.ProcessId}";
        _worker = JobWorker.Start(connection, [_queue], 1, TextWriter.Null);
        _client = new JobClient(connection, _worker.Storage);
    }

    /// <summary>Submits the recipe, waits for it, and returns its run id and training loss curve; a run that does not succeed throws.</summary>
    public (long RunId, IReadOnlyList<(int Step, double Loss)> Loss) Run(string name, Recipe recipe, CancellationToken cancel)
    {
        var runId = Await(name, _client.Submit(recipe, _queue, ownedHere: true), cancel);
        var loss = Lineage.Metrics(runId).Where(m => m.Key.Name == MetricNames.Loss).OrderBy(m => m.Key.Step).Select(m => (m.Key.Step, m.Value)).ToList();
        return (runId, loss);
    }

    /// <summary>Submits the pipeline, waits for every stage, and returns its run id; a pipeline that does not succeed throws.</summary>
    public long Run(string name, Pipeline pipeline, CancellationToken cancel) => Await(name, _client.Submit(pipeline, _queue, ownedHere: true), cancel);

    private long Await(string name, long runId, CancellationToken cancel)
    {
        RunSummary final;
        using (cancel.Register(() => _client.Cancel(runId))) final = RunFollower.Wait(Lineage, runId);
        return final.Status == RunStatus.Succeeded ? runId : throw new RunFailedException($"{name}: run {runId} {Spelling.Of(final.Status)}: {final.Error}");
    }

    public void Dispose() => _worker.Dispose();
}
