using System.CommandLine;
using System.Globalization;
using MultiTeacher.Data;
using MultiTeacher.Evaluation;
using MultiTeacher.Models;
using MultiTeacher.Tokenization;

namespace MultiTeacher.Cli.Commands;

/// <summary>`mt eval`: held-out bits per byte and perplexity of any model directory.</summary>
public static class EvalCommand
{
    public static Command Create(CliIO io)
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
}
