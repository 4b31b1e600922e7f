namespace MultiTeacher.Runs;

/// <summary>Where a stage is in its life; stored in lineage.stages.status as <see cref="Spelling"/> writes it.</summary>
public enum StageStatus
{
    /// <summary>Waiting for other stages (training waits for every teacher cache).</summary>
    Pending,
    /// <summary>Its job is enqueued and no worker has claimed it yet.</summary>
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}
