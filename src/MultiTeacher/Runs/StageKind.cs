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
    /// <summary>A pipeline stage giving a model another vocabulary.</summary>
    Transplant,
    /// <summary>A pipeline stage running an embedded distillation recipe (its own lineage run).</summary>
    Distill,
    /// <summary>A pipeline stage merging models in weight space.</summary>
    Merge,
    /// <summary>A pipeline stage fine-tuning on hard labels (its own lineage run).</summary>
    Finetune,
    /// <summary>A pipeline stage scoring models' held-out bits per byte.</summary>
    Evaluate,
}
