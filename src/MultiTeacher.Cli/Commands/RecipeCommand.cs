using System.CommandLine;
using MultiTeacher.Experiments;
using MultiTeacher.Pipelines;
using MultiTeacher.Recipes;

namespace MultiTeacher.Cli.Commands;

/// <summary>`mt recipe init|cp|check|show|schema`: start a recipe from a template, validate it, print it resolved and documented, or print the recipe JSON Schema.</summary>
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
        var names = string.Join(", ", RecipeTemplates.Names());
        var template = new Option<string>("--template") { Description = $"Template to start from: {names}", DefaultValueFactory = _ => RecipeTemplates.Default };
        var initPath = new Argument<string>("PATH") { Description = "Recipe file to create (must not exist)", Arity = ArgumentArity.ZeroOrOne, DefaultValueFactory = _ => "recipe.yaml" };
        var init = new Command("init", $"Write a new recipe from a template ({names}); then fill in the paths marked {RecipeTemplates.FillIn} and run `mt recipe check`.")
            { template, initPath };
        init.SetAction(r => Written(io, r.GetValue(template)!, r.GetValue(initPath)!));

        var cpName = new Argument<string>("NAME") { Description = $"Template: {names}" };
        var cpPath = new Argument<string>("PATH") { Description = "Recipe file to create (must not exist)" };
        var cp = new Command("cp", "Copy a template recipe to PATH, to edit (as `tune cp`).") { cpName, cpPath };
        cp.SetAction(r => Written(io, r.GetValue(cpName)!, r.GetValue(cpPath)!));
        return new Command("recipe", "Create, validate, resolve and describe recipe and pipeline files.") { init, cp, check, show, schema };
    }

    private static int Written(CliIO io, string template, string path)
    {
        var full = RecipeTemplates.Write(template, path);
        var fill = RecipeTemplates.Placeholders(RecipeTemplates.Text(template));
        io.Out.WriteLine($"wrote {full} from template {template}; fill in {string.Join(", ", fill)} (marked {RecipeTemplates.FillIn}), then: mt recipe check {path}");
        return CliApp.Ok;
    }
}
