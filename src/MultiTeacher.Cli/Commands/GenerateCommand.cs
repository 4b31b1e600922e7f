using System.CommandLine;
using MultiTeacher.Models;
using MultiTeacher.Tokenization;

namespace MultiTeacher.Cli.Commands;

/// <summary>`mt generate`: continue a prompt with a model (greedy or sampled, with a KV cache).</summary>
public static class GenerateCommand
{
    public static Command Create(CliIO io)
    {
        var model = new Option<string>("--model") { Description = "Model directory (with tokenizer files), or a Hugging Face id (org/name) in the local Hugging Face cache", Required = true };
        var prompt = new Option<string>("--prompt") { Description = "Text to continue", Required = true };
        var maxNew = new Option<int>("--max-new-tokens") { Description = "Tokens to generate", DefaultValueFactory = _ => 32 };
        var temperature = new Option<double>("--temperature") { Description = "0 for greedy decoding, else sampling temperature", DefaultValueFactory = _ => 0 };
        var topK = new Option<int>("--top-k") { Description = "Sample only among the k most likely tokens (0: all)", DefaultValueFactory = _ => 0 };
        var topP = new Option<double>("--top-p") { Description = "Sample only among the most likely tokens whose probability reaches p (1: all)", DefaultValueFactory = _ => 1.0 };
        var seed = new Option<long>("--seed") { Description = "Sampling seed", DefaultValueFactory = _ => 0 };
        var command = new Command("generate", "Continue a prompt with a model (greedy, or sampled with temperature, top-k and top-p; with a KV cache).")
            { model, prompt, maxNew, temperature, topK, topP, seed };
        command.SetAction(r =>
        {
            var directory = HubCache.Local(r.GetValue(model)!);
            if (r.GetValue(maxNew) < 1) throw new BadInputException("--max-new-tokens must be at least 1");
            if (r.GetValue(topK) < 0) throw new BadInputException("--top-k must be at least 0");
            if (r.GetValue(topP) is <= 0 or > 1) throw new BadInputException("--top-p must be in (0, 1]");
            var tokenizer = HfTokenizer.FromDirectory(directory);
            using var lm = PretrainedModel.Load(directory);
            var ids = tokenizer.EncodeToIds(r.GetValue(prompt)!);
            var generated = TextGenerator.Generate(lm, ids, r.GetValue(maxNew), new Sampling(r.GetValue(temperature), r.GetValue(topK), r.GetValue(topP), r.GetValue(seed)),
                tokenizer.Roles.Eos >= 0 ? tokenizer.Roles.Eos : null);
            io.Out.WriteLine(r.GetValue(prompt) + tokenizer.Decode(generated, skipSpecialTokens: true));
            return CliApp.Ok;
        });
        return command;
    }
}
