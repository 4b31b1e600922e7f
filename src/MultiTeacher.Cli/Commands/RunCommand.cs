using System.CommandLine;
using System.Globalization;
using MultiTeacher.Data;
using MultiTeacher.Evaluation;
using MultiTeacher.Lineage;
using MultiTeacher.Models;
using MultiTeacher.Recipes;
using MultiTeacher.Tokenization;
using MultiTeacher.Training;
using Spectre.Console;

namespace MultiTeacher.Cli.Commands;

/// <summary>`mt run RECIPE` trains in the foreground; `mt eval` measures bits per byte of any model directory.</summary>
public static class RunCommand
{
    public static Command CreateRun(CliIO io)
    {
        var file = new Argument<string>("RECIPE") { Description = "Recipe YAML" };
        var resume = new Option<bool>("--resume") { Description = "Continue from the newest checkpoint in the recipe's output directory" };
        var command = new Command("run", "Run a recipe in the foreground: teachers, training, evaluation, student saved as a Hugging Face directory; lineage recorded.")
            { file, resume, DatabaseOption };
        command.SetAction((r, cancel) => Task.FromResult(Run(r.GetValue(file)!, r.GetValue(resume), r.GetValue(DatabaseOption), io, cancel)));
        return command;
    }

    /// <summary>--database: a PostgreSQL connection string; default MT_DATABASE, else the private server.</summary>
    public static readonly Option<string?> DatabaseOption = new("--database") { Description = "Lineage database connection string (default: $MT_DATABASE, else mt's private PostgreSQL)" };

    public static Command CreateCache(CliIO io)
    {
        var file = new Argument<string>("RECIPE") { Description = "Recipe YAML" };
        var command = new Command("cache", "Run each teacher once over the recipe's training data and store its top-k (reused by later runs).") { file };
        command.SetAction(r =>
        {
            var recipe = RecipeLoader.Load(r.GetValue(file)!);
            if (recipe.Teachers.Count == 0) throw new BadInputException($"{recipe.Source}: the recipe has no teachers to cache");
            using var setup = DistillationRecipe.Setup(recipe with { Train = recipe.Train with { TeacherMode = "cached" } }, io.Out);
            return CliApp.Ok;
        });
        return command;
    }

    public static Command CreateEval(CliIO io)
    {
        var model = new Option<string>("--model") { Description = "Model directory (with tokenizer files)", Required = true };
        var data = new Option<string>("--data") { Description = "Text file, JSONL file or directory", Required = true };
        var window = new Option<int>("--window") { Description = "Tokens per scored window", DefaultValueFactory = _ => 256 };
        var maxBytes = new Option<long>("--max-bytes") { Description = "Stop after scoring this many bytes", DefaultValueFactory = _ => 1_000_000 };
        var command = new Command("eval", "Held-out bits per byte and perplexity of a model on a text.") { model, data, window, maxBytes };
        command.SetAction(r =>
        {
            var directory = r.GetValue(model)!;
            using var lm = PretrainedModel.Load(directory);
            var result = BitsPerByte.Evaluate(lm, HfTokenizer.FromDirectory(directory), TextCorpus.Load(r.GetValue(data)!), r.GetValue(window), r.GetValue(maxBytes));
            io.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"bits per byte {result.BitsPerByte:F4}  perplexity {result.Perplexity:F2}  ({result.Tokens:N0} tokens, {result.Bytes:N0} bytes)"));
            return CliApp.Ok;
        });
        return command;
    }

    private static int Run(string file, bool resume, string? database, CliIO io, CancellationToken cancel)
    {
        var recipe = RecipeLoader.Load(file);
        io.Out.WriteLine($"recipe {recipe.Name}: {recipe.Teachers.Count} teacher(s), {recipe.Train.Steps} steps → {recipe.Output}");
        var recorder = RunRecorder.Begin(new LineageStore(RunRecorder.ConnectionString(database)), recipe);
        io.Out.WriteLine($"run {recorder.RunId} (lineage recorded; `mt show {recorder.RunId}`)");
        try
        {
            var result = Train(recipe, resume, recorder, io, cancel);
            recorder.Succeeded(result, recipe.Output);
            return CliApp.Ok;
        }
        catch (Exception e)
        {
            recorder.Failed(e);
            throw;
        }
    }

    private static TrainResult Train(Recipe recipe, bool resume, RunRecorder recorder, CliIO io, CancellationToken cancel)
    {
        using var run = DistillationRecipe.Setup(recipe, io.Out, stages: recorder);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var firstStep = -1;
        var result = run.Train(m =>
        {
            recorder.OnStep(m);
            if (firstStep < 0) firstStep = m.Step;
            if (m.Step % recipe.Train.LogEvery != 0 && m.Step != recipe.Train.Steps) return;
            var eta = TimeSpan.FromSeconds(clock.Elapsed.TotalSeconds / (m.Step - firstStep + 1) * (recipe.Train.Steps - m.Step));
            var teachers = string.Join(" ", m.TeacherWeight.Select(kv => $"{kv.Key}:w={kv.Value:F2},cov={m.TeacherCoverage[kv.Key]:P0}"));
            io.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"step {m.Step,5}/{recipe.Train.Steps}  loss {m.Loss:F4}  ce {m.HardLabelCe:F4}  kd {(m.Distillation is { } kd ? kd.ToString("F4", CultureInfo.InvariantCulture) : "-")}  lr {m.LearningRate:E2}  {m.TokensPerSecond:N0} tok/s  eta {eta:mm\\:ss}  {teachers}"));
        }, resume, cancel);
        var table = new Table().Title("Held-out bits per byte").AddColumns("model", "bits/byte", "perplexity", "bytes");
        foreach (var (name, e) in result.Evaluation)
            table.AddRow(name, e.BitsPerByte.ToString("F4", CultureInfo.InvariantCulture), e.Perplexity.ToString("F2", CultureInfo.InvariantCulture), e.Bytes.ToString("N0"));
        if (result.Evaluation.Count > 0) io.Tables().Write(table);
        io.Out.WriteLine($"student saved to {result.StudentDirectory}");
        return result;
    }
}
