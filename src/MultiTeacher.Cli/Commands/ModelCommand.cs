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
        var table = new Table().Title(Path.GetFileName(Path.GetFullPath(directory))).AddColumns("property", "value");
        table.AddRow("architecture", $"{string.Join(", ", config.Architectures ?? [PretrainedModel.ArchitectureName(config.ModelType)])} ({config.ModelType})");
        table.AddRow("layers / hidden / intermediate", $"{config.NumHiddenLayers} / {config.HiddenSize} / {config.IntermediateSize}");
        table.AddRow("heads / kv heads / head dim", $"{config.NumAttentionHeads} / {config.KeyValueHeads} / {config.HeadDim}");
        table.AddRow("vocabulary", $"{config.VocabSize:N0}{(config.TieWordEmbeddings ? " (tied embeddings)" : "")}");
        table.AddRow("rope", $"theta {config.RopeTheta:G}{(config.RopeScaling is { } s ? $", {s.Kind} x{s.Factor}" : "")}");
        table.AddRow("parameters", $"{CausalLM.CountParameters(config):N0}");
        if (File.Exists(Path.Combine(directory, "model.safetensors")) || File.Exists(Path.Combine(directory, "model.safetensors.index.json")))
        {
            using var checkpoint = new Checkpoint(directory);
            var dtypes = checkpoint.Entries.GroupBy(e => e.DType).Select(g => $"{g.Key} ({g.Count()} tensors)");
            table.AddRow("checkpoint dtype", string.Join(", ", dtypes));
            table.AddRow("checkpoint size", $"{checkpoint.TotalBytes / 1e6:N1} MB in {checkpoint.Entries.Count():N0} tensors");
        }
        else table.AddRow("checkpoint", "none (config only)");
        io.Tables().Write(table);
        return CliApp.Ok;
    }
}
