using System.CommandLine;
using MultiTeacher.Checkpoints;
using MultiTeacher.Models;
using MultiTeacher.Tokenization;
using Spectre.Console;
using static TorchSharp.torch;

namespace MultiTeacher.Cli.Commands;

/// <summary>`mt model inspect`: look at a Hugging Face model directory.</summary>
public static class ModelCommand
{
    public static Command Create(CliIO io)
    {
        var dir = new Argument<string>("DIR") { Description = "Hugging Face model directory (config.json, safetensors)" };
        var inspect = new Command("inspect", "Print architecture, parameter count, dtype and size of a model directory.") { dir };
        inspect.SetAction(r => Inspect(r.GetValue(dir)!, io));
        return new Command("model", "Inspect Hugging Face model directories.") { inspect };
    }

    private static int Inspect(string directory, CliIO io)
    {
        var config = ModelConfig.FromPretrained(directory);
        var table = new Table().Title(Terminal.Cell(Path.GetFileName(Path.GetFullPath(directory)))).AddColumns("property", "value");
        table.AddRow("architecture", Terminal.Cell($"{string.Join(", ", config.Architectures ?? [PretrainedModel.ArchitectureName(config.ModelType)])} ({config.ModelType})"));
        table.AddRow("layers / hidden / intermediate", $"{config.NumHiddenLayers} / {config.HiddenSize} / {config.IntermediateSize}");
        table.AddRow("heads / kv heads / head dim", $"{config.NumAttentionHeads} / {config.KeyValueHeads} / {config.HeadDim}");
        table.AddRow("vocabulary", $"{config.VocabSize:N0}{(config.TieWordEmbeddings ? " (tied embeddings)" : "")}");
        table.AddRow("rope", $"theta {config.RopeTheta:G}{(config.RopeScaling is { } s ? Terminal.Cell($", {s.Kind} x{s.Factor}") : "")}");
        var fromConfig = CausalLM.CountParameters(config);
        string? mismatch = null;
        if (File.Exists(Path.Combine(directory, "model.safetensors")) || File.Exists(Path.Combine(directory, "model.safetensors.index.json")))
        {
            using var checkpoint = new Checkpoint(directory);
            // The weights are the model; config.json only claims a shape, so the count comes from the tensors.
            table.AddRow("parameters", $"{checkpoint.ParameterCount:N0} (from the weights)");
            using (var meta = new CausalLM(config, new Device(TorchSharp.DeviceType.META)))
                try { checkpoint.Verify(meta); }
                catch (CheckpointException e) { mismatch = $"config.json disagrees with the weights ({fromConfig:N0} parameters from config.json): {e.Message}"; }
            var dtypes = checkpoint.Entries.GroupBy(e => e.DType).Select(g => $"{g.Key} ({g.Count()} tensors)");
            table.AddRow("checkpoint dtype", Terminal.Cell(string.Join(", ", dtypes)));
            table.AddRow("checkpoint size", $"{checkpoint.TotalBytes / 1e6:N1} MB in {checkpoint.Entries.Count():N0} tensors");
        }
        else
        {
            table.AddRow("parameters", $"{fromConfig:N0} (from config.json)");
            table.AddRow("checkpoint", "none (config only)");
        }
        io.Tables().Write(table);
        if (mismatch is null) return CliApp.Ok;
        io.Error.WriteLine($"mt: {Terminal.Safe(mismatch)}");
        return CliApp.BadInput;
    }
}
