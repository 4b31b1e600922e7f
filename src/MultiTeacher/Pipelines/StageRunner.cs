using System.Text.Json;
using MultiTeacher.Evaluation;
using MultiTeacher.Lineage;
using MultiTeacher.Merging;
using MultiTeacher.Recipes;
using MultiTeacher.Runs;
using MultiTeacher.Runtime;
using MultiTeacher.Settings;
using MultiTeacher.Training;

namespace MultiTeacher.Pipelines;

/// <summary>
/// Executes one stage of a pipeline as a lineage run of its own: a distill or finetune stage is an
/// ordinary distillation run of its embedded recipe; a transplant, merge or evaluate stage records
/// the stage's resolved YAML, every input (hashed) as used and its output as produced. Stages are
/// chained in lineage by their artifacts: one stage's output is the next one's input.
/// </summary>
public sealed class StageRunner(LineageStore store, TextWriter log, string? cacheRoot = null)
{
    /// <summary>Role of a transplant, merge or evaluate stage's output in its lineage run.</summary>
    public const string OutputRole = "output";

    /// <summary>Runs the stage after checking its external inputs against the pipeline's hashes; returns the stage's lineage run.</summary>
    /// <param name="stop">Asked between training steps: true stops a distill or finetune stage.</param>
    public long Run(Pipeline pipeline, string stageName, CancellationToken cancel = default, Func<bool>? stop = null)
    {
        var stage = pipeline.Stage(stageName);
        pipeline.VerifyInputs(stage);
        Directory.CreateDirectory(Pipeline.Directory(pipeline.Settings.Output, stage.Name));
        return stage.Recipe is { } recipe ? Train(recipe, cancel, stop) : Record(pipeline, stage);
    }

    private long Train(Recipe recipe, CancellationToken cancel, Func<bool>? stop)
    {
        var recorder = RunRecorder.Begin(store, recipe);
        try
        {
            using var halt = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            using var training = new DistillationRecipe(recipe, log, cacheRoot, recorder, ResolvedRecipe.Resolve(recipe).Hashes);
            training.Setup();
            try
            {
                var result = training.Train(m =>
                {
                    recorder.OnStep(m);
                    if (m.Step % recipe.Train.LogEvery == 0 || m.Step == recipe.Train.Steps) log.WriteLine(StepLine.Format(m, recipe.Train.Steps));
                    if (stop?.Invoke() == true) halt.Cancel();
                }, cancel: halt.Token);
                recorder.Succeeded(result);
            }
            finally { recorder.Flush(); }
            return recorder.RunId;
        }
        catch (Exception e)
        {
            store.FinishRun(recorder.RunId, e is OperationCanceledException ? RunStatus.Cancelled : RunStatus.Failed, FailureText.Of(e), BadInputException.Is(e));
            throw;
        }
    }

    private long Record(Pipeline pipeline, StageSettings stage)
    {
        var inputs = Pipeline.Inputs(stage);
        var recipeId = store.RecordRecipe($"{pipeline.Name}.{stage.Name}",
            pipeline.StageYaml(stage, inputs.ToDictionary(kv => kv.Key, kv => ContentHash.Of(kv.Value))));
        var recorder = RunRecorder.Attach(store, store.StartRun(recipeId, pipeline.Settings.Seed, RunEnvironment.Current("cpu", false)), log);
        try
        {
            recorder.Used("recipe", pipeline.Settings.Source, "recipe");
            foreach (var (key, path) in inputs) recorder.Used(ArtifactKind(key, path), path, key);
            var output = pipeline.OutputOf(stage.Name);
            var metrics = Execute(stage, output, pipeline.Settings.Seed, log);
            if (metrics.Count > 0) store.AppendMetrics(recorder.RunId, metrics.Select(m => (0, m.Key, m.Value)).ToList());
            recorder.Produced(stage.Kind == PipelineStageKind.Evaluate ? "evaluation" : "model", output, OutputRole);
            store.FinishRun(recorder.RunId, RunStatus.Succeeded);
            return recorder.RunId;
        }
        catch (Exception e)
        {
            store.FinishRun(recorder.RunId, RunStatus.Failed, FailureText.Of(e), BadInputException.Is(e));
            throw;
        }
    }

    /// <summary>
    /// Does a transplant, merge or evaluate stage's work into <paramref name="output"/> (an earlier
    /// attempt's output is replaced); returns the metrics it measured. Audits call it to replay a stage.
    /// </summary>
    public static IReadOnlyDictionary<string, double> Execute(StageSettings stage, string output, long seed, TextWriter log)
    {
        if (Directory.Exists(output)) Directory.Delete(output, recursive: true);
        if (File.Exists(output)) File.Delete(output);
        Directory.CreateDirectory(Path.GetDirectoryName(output)!);
        switch (stage.Kind)
        {
            case PipelineStageKind.Transplant:
                var t = stage.Transplant!;
                var moved = VocabularyTransplant.Run(t.Model, t.Tokenizer, output, new TransplantOptions(t.Method, t.K, t.Donor, t.Head));
                log.WriteLine($"transplanted to a {moved.NewVocabulary:N0}-token vocabulary: {moved.Copied:N0} rows copied, {moved.Approximated:N0} approximated ({SettingNames.Of(t.Method)})");
                return new Dictionary<string, double>();
            case PipelineStageKind.Merge:
                MergeStage.Run(stage.Merge!, output, seed, log);
                return new Dictionary<string, double>();
            case PipelineStageKind.Evaluate:
                return Evaluate(stage.Evaluate!, output, log);
            default:
                throw new ArgumentException($"a {SettingNames.Of(stage.Kind)} stage trains; it is run as a distillation recipe");
        }
    }

    private static Dictionary<string, double> Evaluate(EvaluateStageSettings e, string output, TextWriter log)
    {
        var texts = e.Texts.Select(t => (t.Name, t.Path)).ToList();
        var table = new Dictionary<string, IReadOnlyDictionary<string, double>>();
        foreach (var m in e.Models)
        {
            table[m.Name] = HeldOutEvaluation.Score(m.Path, texts, e.Window, e.MaxBytes);
            log.WriteLine($"{m.Name}: " + string.Join(", ", table[m.Name].Select(kv => $"{kv.Key} {kv.Value:F4}")) + " bits/byte");
        }
        File.WriteAllText(output, JsonSerializer.Serialize(table, new JsonSerializerOptions { WriteIndented = true }));
        return table.SelectMany(m => m.Value.Select(v => (Name: MetricNames.HeldOutBitsPerByte(m.Key, v.Key), v.Value))).ToDictionary(x => x.Name, x => x.Value);
    }

    private static string ArtifactKind(string key, string path) => key switch
    {
        _ when key.StartsWith("evaluate.texts", StringComparison.Ordinal) => "dataset",
        _ when key.EndsWith("tokenizer", StringComparison.Ordinal) => "tokenizer",
        _ => Directory.Exists(path) ? "model" : "dataset",
    };
}
