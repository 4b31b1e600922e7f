using System.CommandLine;
using System.Globalization;
using MultiTeacher.Lineage;
using MultiTeacher.Models;
using MultiTeacher.Runs;
using MultiTeacher.Training;

namespace MultiTeacher.Cli.Commands;

/// <summary>`mt eval`: held-out bits per byte and perplexity of any model directory, or of a run's student as the run scored it.</summary>
public static class EvalCommand
{
    public static Command Create(CliIO io)
    {
        var model = new Option<string?>("--model") { Description = "Model directory (with tokenizer files) or Hugging Face id (org/name) in the local cache; default with --run: the run's student" };
        var run = new Option<long?>("--run") { Description = "A recorded run: its student, held-out data, seq_len as window and max_bytes, unless given" };
        var data = new Option<string?>("--data") { Description = "Text file, JSONL file or directory (default: the run's data.eval)" };
        var window = new Option<int?>("--window") { Description = $"Tokens per scored window (default: the run's seq_len, else {StudentEvaluation.DefaultWindow})" };
        var maxBytes = new Option<long?>("--max-bytes") { Description = $"Stop after scoring this many bytes (default: the run's eval.max_bytes, else {StudentEvaluation.DefaultMaxBytes})" };
        var segmentAs = new Option<string?>("--segment-as") { Description = "Tokenizer directory: cut the text as it does, each of its tokens written as this model's tokens for the same bytes (what a transplant into that vocabulary costs before any new row is approximated)" };
        var command = new Command("eval", "Held-out bits per byte and perplexity of a model on a text; of a run's student, as the run measured it.")
            { model, run, data, window, maxBytes, segmentAs, CliApp.JsonOption, RunCommand.DatabaseOption };
        command.SetAction(r =>
        {
            var directory = r.GetValue(model) is { } given ? HubCache.Local(given) : null;
            var recipe = r.GetValue(run) is { } id
                ? StudentEvaluation.FromResolved(new LineageStore(LineageDatabase.Connect(r.GetValue(RunCommand.DatabaseOption))).ResolvedRecipe(id)
                    ?? throw new BadInputException($"no run {id}"))
                : directory is not null ? StudentEvaluation.RecipeBeside(directory) : null;
            var request = StudentEvaluation.Plan(recipe, directory, r.GetValue(data), r.GetValue(window), r.GetValue(maxBytes), r.GetValue(segmentAs));
            var result = StudentEvaluation.Evaluate(request);
            io.Out.WriteLine(r.GetValue(CliApp.JsonOption)
                ? SpellingJson.Serialize(new { request.Model, request.Data, request.Window, request.MaxBytes, request.SegmentAs, Result = result })
                : string.Create(CultureInfo.InvariantCulture,
                    $"bits per byte {result.BitsPerByte:F4}  perplexity {result.Perplexity:F2}  ({result.Tokens:N0} tokens, {result.Bytes:N0} bytes, window {request.Window})"));
            return CliApp.Ok;
        });
        return command;
    }
}
