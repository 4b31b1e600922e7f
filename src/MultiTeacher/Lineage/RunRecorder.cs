using MultiTeacher.Recipes;
using MultiTeacher.Training;
using MultiTeacher.Runs;

namespace MultiTeacher.Lineage;

/// <summary>
/// Records one run's lineage as it happens: the resolved recipe, the environment, every input
/// (hashed) as used, metrics in batches while training, and every output as produced. A database
/// that goes away mid-run (restart, dropped connection) costs waiting, never rows: metric rows are
/// held until a flush succeeds, and stage and artifact writes are retried until it is back.
/// </summary>
public sealed class RunRecorder : IStageObserver
{
    private const int FlushEvery = 10;
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(5);
    private readonly LineageStore _store;
    private readonly TextWriter? _log;
    private readonly List<(int, string, double)> _pending = [];
    private readonly Dictionary<(StageKind, string), long> _openStages = [];

    public long RunId { get; }

    private RunRecorder(LineageStore store, long runId, TextWriter? log) => (_store, RunId, _log) = (store, runId, log);

    /// <summary>Records the resolved recipe, the environment and every input, and opens a run in the given status.</summary>
    public static RunRecorder Begin(LineageStore store, Recipe recipe, RunStatus status = RunStatus.Running)
    {
        var resolved = ResolvedRecipe.Resolve(recipe);
        var recipeId = store.RecordRecipe(recipe.Name, resolved.ToYaml());
        var recorder = new RunRecorder(store, store.StartRun(recipeId, recipe.Seed, RunEnvironment.Current(recipe), status), null);
        recorder.Used("recipe", recipe.Source, "recipe");
        recorder.Used("dataset", recipe.Data.Train, "data.train");
        if (recipe.Data.Eval is { } eval) recorder.Used("dataset", eval, "data.eval");
        foreach (var t in recipe.Teachers) recorder.Used("teacher", t.Path, ArtifactRoles.Teacher(t.Name));
        if (recipe.Student.Init is { } init) recorder.Used("checkpoint", init, "student.init");
        if (recipe.Student.Config is { } config) recorder.Used("recipe", config, "student.config");
        recorder.Used("tokenizer", recipe.Student.TokenizerDirectory, "student.tokenizer");
        return recorder;
    }

    /// <summary>A recorder for a run recorded earlier (by `mt submit`), as a job executing it uses.</summary>
    public static RunRecorder Attach(LineageStore store, long runId, TextWriter? log) => new(store, runId, log);

    private T Write<T>(Func<T> work) => Transient.Retry(work, Patience, _log);

    public void Used(string kind, string path, string role) => Write(() => { _store.Link(RunId, _store.RecordArtifact(kind, path), "used", role); return 0; });

    public void Produced(string kind, string path, string role) => Write(() => { _store.Link(RunId, _store.RecordArtifact(kind, path), "produced", role); return 0; });

    public void Started(StageKind kind, string name)
    {
        if (Write(() => _store.StartStage(RunId, kind, name)) is { } id) _openStages[(kind, name)] = id;
    }

    public void Finished(StageKind kind, string name, StageStatus status)
    {
        if (_openStages.Remove((kind, name), out var id)) Write(() => { _store.FinishStage(id, status); return 0; });
    }

    public void InputUsed(string kind, string path, string role) => Used(kind, path, role);

    public void CheckpointSaved(int step, string directory) => Produced("checkpoint", directory, $"checkpoint:{Path.GetFileName(directory)}");

    /// <summary>The newest checkpoint this run produced, to continue from after its worker died.</summary>
    public string? LatestCheckpoint() => Write(() => _store.Artifacts(RunId))
        .Where(a => a.Direction == "produced" && a.Kind == "checkpoint" && File.Exists(Path.Combine(a.Path, "state.json")))
        .MaxBy(a => TrainingCheckpoint.StepOf(a.Path))?.Path;

    public void OnStep(StepMetrics m)
    {
        _pending.AddRange(m.Rows());
        if (m.Step % FlushEvery == 0) TryFlush();
    }

    /// <summary>Writes held metric rows if the database answers; otherwise keeps them for the next flush.</summary>
    private void TryFlush()
    {
        try
        {
            _store.AppendMetrics(RunId, _pending);
            _pending.Clear();
        }
        catch (Exception e) when (Transient.IsTransient(e))
        {
            Npgsql.NpgsqlConnection.ClearAllPools();
            _log?.WriteLine($"lineage database unreachable ({e.Message}); holding {_pending.Count} metric rows");
        }
    }

    /// <summary>Writes every held metric row, waiting for the database if it has to.</summary>
    public void Flush()
    {
        Write(() => { _store.AppendMetrics(RunId, _pending); return 0; });
        _pending.Clear();
    }

    /// <summary>Records held-out bits per byte (bpb/student, bpb/teacher/NAME) and the blend agreement at the last step, then ends the run.</summary>
    public void Succeeded(TrainResult result)
    {
        foreach (var (metric, e) in result.Evaluation) _pending.Add((result.Steps, metric, e.BitsPerByte));
        if (result.Agreement is { } a)
        {
            _pending.Add((result.Steps, MetricNames.Top1Agreement, a.Top1));
            _pending.Add((result.Steps, MetricNames.BlendKl, a.Kl));
        }
        Flush();
        Produced("student", result.StudentDirectory, "student");
        Write(() => { _store.FinishRun(RunId, RunStatus.Succeeded); return 0; });
    }

}
