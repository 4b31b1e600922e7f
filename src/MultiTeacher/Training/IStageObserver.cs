namespace MultiTeacher.Training;

/// <summary>Hears when a run's stages (cache-teacher, train, eval, save) start and finish.</summary>
public interface IStageObserver
{
    void Started(string kind, string name);
    void Finished(string kind, string name, bool succeeded);
}
