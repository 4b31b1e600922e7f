using System.CommandLine;
using MultiTeacher.Recipes;

namespace MultiTeacher.Cli.Commands;

/// <summary>`mt recipe check|show FILE`: validate a recipe, or print it fully resolved.</summary>
public static class RecipeCommand
{
    public static Command Create(CliIO io)
    {
        var checkFile = new Argument<string>("FILE") { Description = "Recipe YAML" };
        var check = new Command("check", "Validate a recipe: every problem listed with file:line:column (exit 2 if any).") { checkFile };
        check.SetAction(r =>
        {
            var recipe = CliApp.LoadRecipe(r.GetValue(checkFile)!);
            io.Out.WriteLine($"{recipe.Source}: ok ({recipe.Teachers.Count} teacher(s), {recipe.Train.Steps} steps, output {recipe.Output})");
            return CliApp.Ok;
        });

        var showFile = new Argument<string>("FILE") { Description = "Recipe YAML" };
        var show = new Command("show", "Print the fully resolved recipe: defaults, absolute paths, sha256 of every input.") { showFile };
        show.SetAction(r =>
        {
            io.Out.Write(ResolvedRecipe.Resolve(CliApp.LoadRecipe(r.GetValue(showFile)!)).ToYaml());
            return CliApp.Ok;
        });
        return new Command("recipe", "Validate and resolve recipe files.") { check, show };
    }
}
