using static TorchSharp.torch;

namespace MultiTeacher.Merging;

/// <summary>
/// Overlaps a merge's disk work with its arithmetic: the inputs of the tensors after the one being
/// merged are read ahead into the page cache (asynchronous readahead, up to <see cref="AheadBytes"/>
/// of them), and each merged block is written on another thread while the next one is merged, at
/// most one write in flight, in order.
/// </summary>
internal sealed class MergePipeline(IReadOnlyList<PlannedTensor> plan, MergeSources sources)
{
    private const long AheadBytes = 1L << 30, Stride = 16L << 20;
    private Task _writing = Task.CompletedTask, _reading = Task.CompletedTask;
    private int _readUpTo = -1;

    /// <summary>Starts reading ahead the inputs of tensor <paramref name="current"/> and those after it, up to <see cref="AheadBytes"/> past it.</summary>
    public void ReadAhead(int current)
    {
        long ahead = 0;
        for (var i = current; i < plan.Count && (i == current || ahead < AheadBytes); i++)
        {
            var inputs = plan[i].Inputs.Select(x => sources[x.Source.Model].Checkpoint.Map(x.Input)).ToList();
            if (i > current) ahead += inputs.Sum(m => m.Length);
            if (i <= _readUpTo) continue;
            _readUpTo = i;
            // The merge reads every input of a tensor at the same offsets at once: asked for in that order,
            // the disk serves them as it would one file, instead of one input after another.
            _reading = _reading.ContinueWith(_ =>
            {
                var longest = inputs.Max(m => m.Length);
                for (long at = 0; at < longest; at += Stride)
                    foreach (var m in inputs) m.Prefetch(at, Stride);
            }, TaskScheduler.Default);
        }
    }

    /// <summary>Runs <paramref name="write"/> once the previous write is done, without waiting for it; a failed write fails the next call.</summary>
    public void Write(Action write, Tensor block)
    {
        var owned = block.DetachFromDisposeScope();
        _writing.GetAwaiter().GetResult();
        _writing = Task.Run(() =>
        {
            using (owned) write();
        });
    }

    /// <summary>Waits for the last write and for the readahead; a failed write throws when <paramref name="rethrow"/> (a merge failing already keeps its own error).</summary>
    public void Finish(bool rethrow)
    {
        _reading.Wait();
        try { _writing.GetAwaiter().GetResult(); }
        catch when (!rethrow) { }
    }
}
