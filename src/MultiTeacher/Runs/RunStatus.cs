namespace MultiTeacher.Runs;

/// <summary>Where a run is in its life; stored in lineage.runs.status as <see cref="Spelling"/> writes it.</summary>
public enum RunStatus
{
    /// <summary>Recorded and waiting for a worker.</summary>
    Queued,
    /// <summary>A worker has begun one of its stages.</summary>
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

/// <summary>Why a failed run failed: its input was wrong (exit code 2), or something else went wrong (exit code 1).</summary>
public enum RunFailure
{
    BadInput,
    Error,
}

/// <summary>Questions about run statuses asked in several places.</summary>
public static class RunStatuses
{
    /// <summary>Succeeded, failed or cancelled: nothing more will happen to the run.</summary>
    public static bool IsFinished(this RunStatus status) => status is RunStatus.Succeeded or RunStatus.Failed or RunStatus.Cancelled;
}
