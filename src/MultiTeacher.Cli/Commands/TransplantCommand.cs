using System.CommandLine;
using MultiTeacher.Merging;

namespace MultiTeacher.Cli.Commands;

/// <summary>`mt transplant`: give a model another tokenizer (vocabulary transplant).</summary>
public static class TransplantCommand
{
    public static Command Create(CliIO io)
    {
        var model = new Option<string>("--model") { Description = "Model directory (with its tokenizer files)", Required = true };
        var tokenizer = new Option<string>("--tokenizer") { Description = "Directory of the new tokenizer (a model directory also serves as OMP's donor)", Required = true };
        var output = new Option<string>("--out") { Description = "Directory to create for the transplanted model", Required = true };
        var method = new Option<string>("--method") { Description = "Rows for new tokens: mean (of the old pieces) or omp (tokensurgeon)", DefaultValueFactory = _ => "mean" };
        method.AcceptOnlyFromAmong("mean", "omp");
        var k = new Option<int>("--k") { Description = "Anchor tokens per new token for omp", DefaultValueFactory = _ => 64 };
        var donor = new Option<string?>("--donor") { Description = "A model that uses the new tokenizer, in whose embedding space omp runs" };
        var head = new Option<string?>("--head") { Description = "New rows of a separate LM head: average (of all old head rows; the default) or approximate (as the embedding's)" };
        head.AcceptOnlyFromAmong("average", "approximate");
        var command = new Command("transplant", "Give a model another tokenizer: shared tokens' rows copied, the others approximated.")
        {
            model, tokenizer, output, method, k, donor, head,
        };
        command.SetAction(r =>
        {
            var options = new TransplantOptions(r.GetValue(method) == "omp" ? TransplantMethod.Omp : TransplantMethod.Mean, r.GetValue(k), r.GetValue(donor),
                r.GetValue(head) switch { "average" => TransplantHead.Average, "approximate" => TransplantHead.Approximate, _ => null });
            var result = VocabularyTransplant.Run(r.GetValue(model)!, r.GetValue(tokenizer)!, r.GetValue(output)!, options);
            io.Out.WriteLine($"transplanted to a {result.NewVocabulary:N0}-token vocabulary: {result.Copied:N0} rows copied, {result.Approximated:N0} approximated ({r.GetValue(method)}) into {result.Directory}");
            return CliApp.Ok;
        });
        return command;
    }
}
