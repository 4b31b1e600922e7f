using MultiTeacher.Runs;

namespace MultiTeacher.Training;

/// <summary>Hears when a run's stages (cache-teacher, train, eval, save) start and finish, and when checkpoints land.</summary>
public interface IStageObserver
{
    void Started(StageKind kind, string name);
    /// <param name="status">Succeeded, failed or cancelled.</param>
    void Finished(StageKind kind, string name, StageStatus status);

    /// <summary>A complete checkpoint was written (its state.json last), so it can be resumed from.</summary>
    void CheckpointSaved(int step, string directory) { }

    /// <summary>A derived input was opened (e.g. a teacher cache file), to be recorded with the run's inputs.</summary>
    void InputUsed(string kind, string path, string role) { }
}
