using System.CommandLine;
using MultiTeacher.Cache;
using MultiTeacher.Teachers;
using MultiTeacher.Training;

namespace MultiTeacher.Cli.Commands;

/// <summary>`mt cache RECIPE`: run each teacher once over the training data and store its top-k.</summary>
public static class CacheCommand
{
    public static Command Create(CliIO io)
    {
        var file = new Argument<string>("RECIPE") { Description = "Recipe YAML" };
        var command = new Command("cache", "Run each teacher once over the recipe's training data and store its top-k (reused by later runs).") { file };
        command.SetAction(r =>
        {
            var recipe = CliApp.LoadRecipe(r.GetValue(file)!);
            if (recipe.Teachers.Count == 0) throw new BadInputException($"{recipe.Source}: the recipe has no teachers to cache");
            TeacherCaches.EnsureForRecipe(recipe, DistillationRecipe.DeviceOf(recipe.Device), new TeacherHashes(), CacheDirectories.Root(), io.Out);
            return CliApp.Ok;
        });
        return command;
    }
}
