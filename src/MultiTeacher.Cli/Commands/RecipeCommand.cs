using System.CommandLine;
using MultiTeacher.Experiments;
using MultiTeacher.Pipelines;
using MultiTeacher.Recipes;

namespace MultiTeacher.Cli.Commands;

/// <summary>`mt recipe check|show|schema`: validate a recipe, print it resolved and documented, or print the recipe JSON Schema.</summary>
public static class RecipeCommand
{
    /// <summary>KEY.PATH=VALUE arguments after the recipe file (train.steps=5), applied on top of it.</summary>
    public static Argument<string[]> OverridesArgument() => new("OVERRIDES")
    {
        Description = "Settings over the file's, as KEY.PATH=VALUE (e.g. train.steps=5 loss.temperature=2)",
        Arity = ArgumentArity.ZeroOrMore,
    };

    public static Command Create(CliIO io)
    {
        var checkFile = new Argument<string>("FILE") { Description = "Recipe YAML" };
        var checkOverrides = OverridesArgument();
        var check = new Command("check", "Validate a recipe: every problem listed with file:line:column (exit 2 if any).") { checkFile, checkOverrides };
        check.SetAction(r =>
        {
            if (PipelineLoader.IsPipeline(r.GetValue(checkFile)!))
            {
                var pipeline = CliApp.LoadPipeline(r.GetValue(checkFile)!, r.GetValue(checkOverrides));
                io.Out.WriteLine($"{pipeline.Settings.Source}: ok (pipeline of {pipeline.Order.Count} stage(s): {string.Join(" → ", pipeline.Order)}; output {pipeline.Settings.Output})");
                return CliApp.Ok;
            }
            var recipe = CliApp.LoadRecipe(r.GetValue(checkFile)!, r.GetValue(checkOverrides));
            io.Out.WriteLine($"{recipe.Source}: ok ({recipe.Teachers.Count} teacher(s), {recipe.Train.Steps} steps, output {recipe.Output})");
            return CliApp.Ok;
        });

        var showFile = new Argument<string>("FILE") { Description = "Recipe YAML" };
        var showOverrides = OverridesArgument();
        var show = new Command("show", "Print the fully resolved recipe, each key with its documentation and default, and the sha256 of every input; problems listed after (exit 2).")
            { showFile, showOverrides };
        show.SetAction(r =>
        {
            if (PipelineLoader.IsPipeline(r.GetValue(showFile)!))
            {
                if (r.GetValue(showOverrides) is { Length: > 0 }) CliApp.LoadPipeline(r.GetValue(showFile)!, r.GetValue(showOverrides));
                var (pipeline, problems) = PipelineLoader.Read(r.GetValue(showFile)!, DemoPaths.Default().RecipeVariables);
                if (pipeline is not null) io.Out.Write((problems.Count == 0 ? pipeline.Resolve() : pipeline).ToYaml(annotate: true));
                foreach (var e in problems) io.Error.WriteLine($"mt: {e}");
                return problems.Count == 0 ? CliApp.Ok : CliApp.BadInput;
            }
            var (recipe, errors) = DemoPaths.Default().Read(r.GetValue(showFile)!, r.GetValue(showOverrides));
            if (recipe is not null)
                io.Out.Write((errors.Count == 0 ? ResolvedRecipe.Resolve(recipe) : ResolvedRecipe.ResolveExisting(recipe)).ToAnnotatedYaml());
            foreach (var e in errors) io.Error.WriteLine($"mt: {e}");
            return errors.Count == 0 ? CliApp.Ok : CliApp.BadInput;
        });

        var ofPipelines = new Option<bool>("--pipeline") { Description = "The schema of pipeline files instead" };
        var schema = new Command("schema", "Print the JSON Schema of recipe files, or of pipeline files (for editors: completion and checking).") { ofPipelines };
        schema.SetAction(r =>
        {
            io.Out.WriteLine(r.GetValue(ofPipelines)
                ? RecipeJsonSchema.Text(Pipeline.JsonSchema())
                : RecipeJsonSchema.Text());
            return CliApp.Ok;
        });
        return new Command("recipe", "Validate, resolve and describe recipe and pipeline files.") { check, show, schema };
    }
}
