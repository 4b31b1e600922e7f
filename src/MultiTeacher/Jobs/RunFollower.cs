using MultiTeacher.Lineage;
using MultiTeacher.Runs;

namespace MultiTeacher.Jobs;

/// <summary>Watches a run in lineage until it ends, reporting each change of status or step.</summary>
public static class RunFollower
{
    /// <summary>Polls until the run is succeeded, failed or cancelled; database outages only delay it.</summary>
    public static RunSummary Wait(LineageStore store, long runId, Action<RunSummary>? progress = null, CancellationToken cancel = default, TimeSpan? poll = null)
    {
        RunSummary? last = null;
        while (true)
        {
            var run = Transient.Retry(() => store.Run(runId), TimeSpan.FromMinutes(5)) ?? throw new ArgumentException($"run {runId} does not exist");
            if (last is null || run.Status != last.Status || run.Steps != last.Steps) progress?.Invoke(run);
            if (run.Status.IsFinished()) return run;
            last = run;
            cancel.WaitHandle.WaitOne(poll ?? TimeSpan.FromMilliseconds(250));
            cancel.ThrowIfCancellationRequested();
        }
    }
}
