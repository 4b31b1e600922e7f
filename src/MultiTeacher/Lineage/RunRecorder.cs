using System.Diagnostics;
using System.Runtime.InteropServices;
using MultiTeacher.Recipes;
using MultiTeacher.Training;

namespace MultiTeacher.Lineage;

/// <summary>
/// Records one run's lineage as it happens: the resolved recipe, the environment, every input
/// (hashed) as used, metrics in batches while training, and every output as produced.
/// </summary>
public sealed class RunRecorder : IStageObserver
{
    private readonly Dictionary<(string, string), long> _openStages = [];

    public void Started(string kind, string name) => _openStages[(kind, name)] = _store.StartStage(RunId, kind, name);

    public void Finished(string kind, string name, bool succeeded)
    {
        if (_openStages.Remove((kind, name), out var id)) _store.FinishStage(id, succeeded ? "succeeded" : "failed");
    }

    private const int FlushEvery = 10;
    private readonly LineageStore _store;
    private readonly List<(int, string, double)> _pending = [];

    public long RunId { get; }

    private RunRecorder(LineageStore store, long runId) => (_store, RunId) = (store, runId);

    /// <summary>The lineage database: --database / MT_DATABASE, else the private server (started and migrated on demand).</summary>
    public static string ConnectionString(string? explicitConnection)
    {
        var connection = explicitConnection ?? System.Environment.GetEnvironmentVariable("MT_DATABASE");
        if (string.IsNullOrEmpty(connection)) connection = EmbeddedPostgres.Default().EnsureRunning();
        Migrator.Apply(connection);
        return connection;
    }

    public static RunRecorder Begin(LineageStore store, Recipe recipe)
    {
        var resolved = ResolvedRecipe.Resolve(recipe);
        var recipeId = store.RecordRecipe(recipe.Name, resolved.ToYaml());
        var recorder = new RunRecorder(store, store.StartRun(recipeId, recipe.Seed, EnvironmentFacts(recipe)));
        recorder.Used("recipe", recipe.Source, "recipe");
        recorder.Used("dataset", recipe.Data.Train, "data.train");
        if (recipe.Data.Eval is { } eval) recorder.Used("dataset", eval, "data.eval");
        foreach (var t in recipe.Teachers) recorder.Used("teacher", t.Path, $"teacher:{t.Name}");
        if (recipe.Student.Init is { } init) recorder.Used("checkpoint", init, "student.init");
        if (recipe.Student.Config is { } config) recorder.Used("recipe", config, "student.config");
        recorder.Used("tokenizer", recipe.Student.TokenizerDirectory, "student.tokenizer");
        return recorder;
    }

    private void Used(string kind, string path, string role) => _store.Link(RunId, _store.RecordArtifact(kind, path), "used", role);

    public void Produced(string kind, string path, string role) => _store.Link(RunId, _store.RecordArtifact(kind, path), "produced", role);

    public void OnStep(StepMetrics m)
    {
        _pending.Add((m.Step, "loss", m.Loss));
        _pending.Add((m.Step, "ce", m.HardLabelCe));
        if (m.Distillation is { } kd) _pending.Add((m.Step, "kd", kd));
        _pending.Add((m.Step, "lr", m.LearningRate));
        _pending.Add((m.Step, "grad_norm", m.GradNorm));
        _pending.Add((m.Step, "tokens_per_s", m.TokensPerSecond));
        foreach (var (name, w) in m.TeacherWeight) _pending.Add((m.Step, $"weight:{name}", w));
        foreach (var (name, c) in m.TeacherCoverage) _pending.Add((m.Step, $"coverage:{name}", c));
        if (m.EvalBitsPerByte is { } bpb) _pending.Add((m.Step, "eval_bits_per_byte", bpb));
        if (m.Step % FlushEvery == 0) Flush();
    }

    public void Flush()
    {
        _store.AppendMetrics(RunId, _pending);
        _pending.Clear();
    }

    public void Succeeded(TrainResult result, string output)
    {
        Flush();
        Produced("student", result.StudentDirectory, "student");
        var checkpoints = Path.Combine(output, "checkpoints");
        if (Directory.Exists(checkpoints))
            foreach (var dir in Directory.GetDirectories(checkpoints).Order(StringComparer.Ordinal))
                Produced("checkpoint", dir, $"checkpoint:{Path.GetFileName(dir)}");
        _store.FinishRun(RunId, "succeeded");
    }

    public void Failed(Exception e)
    {
        Flush();
        _store.FinishRun(RunId, e is OperationCanceledException ? "cancelled" : "failed", e.Message);
    }

    private static Dictionary<string, string> EnvironmentFacts(Recipe recipe) => new()
    {
        ["dotnet"] = System.Environment.Version.ToString(),
        ["torchsharp"] = typeof(TorchSharp.torch).Assembly.GetName().Version?.ToString() ?? "?",
        ["os"] = RuntimeInformation.OSDescription,
        ["cpu_threads"] = TorchSharp.torch.get_num_threads().ToString(),
        ["device"] = recipe.Device,
        ["git_commit"] = GitCommit(),
    };

    private static string GitCommit()
    {
        try
        {
            using var git = Process.Start(new ProcessStartInfo("git", ["rev-parse", "HEAD"]) { RedirectStandardOutput = true, RedirectStandardError = true });
            var commit = git!.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit();
            return git.ExitCode == 0 ? commit : "unknown";
        }
        catch (System.ComponentModel.Win32Exception) { return "unknown"; }
    }
}
