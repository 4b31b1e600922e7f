namespace MultiTeacher.Runs;

/// <summary>What a stage of a run does; stored in lineage.stages.kind as <see cref="Spelling"/> writes it.</summary>
public enum StageKind
{
    /// <summary>One teacher's top-k records over the training data (a job of its own when submitted).</summary>
    CacheTeacher,
    /// <summary>Training the student (the run's train job, which also saves and evaluates).</summary>
    Train,
    Eval,
    Save,
}
