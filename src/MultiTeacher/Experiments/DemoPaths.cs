using MultiTeacher.Assets;
using MultiTeacher.Recipes;

namespace MultiTeacher.Experiments;

/// <summary>
/// Where the demo and the experiment find assets and keep their data and runs: the values of
/// ${MT_ASSETS} and ${MT_DEMO} in the shipped recipes, passed to the recipe loader.
/// </summary>
public sealed record DemoPaths(string Assets, string Work)
{
    /// <summary>The given directories, else the asset cache and <see cref="DefaultWork"/>.</summary>
    public static DemoPaths Default(string? assets = null, string? work = null) =>
        new(Path.GetFullPath(assets ?? AssetStore.DefaultRoot()), Path.GetFullPath(work ?? DefaultWork()));

    /// <summary>$MT_DEMO, else runs/demo of this repository (so recipes/demo run from anywhere), else ./runs/demo.</summary>
    public static string DefaultWork() =>
        Environment.GetEnvironmentVariable("MT_DEMO") is { Length: > 0 } set ? set
            : Repository() is { } repo ? Path.Combine(repo, "runs", "demo") : Path.Combine("runs", "demo");

    public AssetStore Store => new(Assets);

    public IReadOnlyDictionary<string, string> RecipeVariables => new Dictionary<string, string> { ["MT_ASSETS"] = Assets, ["MT_DEMO"] = Work };

    /// <summary>Loads a recipe with ${MT_ASSETS} and ${MT_DEMO} set to these directories.</summary>
    public Recipe Load(string recipeFile, IReadOnlyList<string>? overrides = null) => RecipeLoader.Load(recipeFile, overrides, RecipeVariables);

    /// <summary><see cref="Load"/> without throwing: what could be read, and every problem.</summary>
    public RecipeReading Read(string recipeFile, IReadOnlyList<string>? overrides = null) => RecipeLoader.Read(recipeFile, overrides, RecipeVariables);

    /// <summary>recipes/NAME of this repository, searched upwards from the working directory and from the program.</summary>
    public static string FindRecipes(string name = "demo") =>
        Repository(name) is { } repo ? Path.Combine(repo, "recipes", name)
            : throw new BadInputException($"cannot find recipes/{name}; run from the repository or pass --recipes DIR");

    private static string? Repository(string recipes = "demo")
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (Directory.Exists(Path.Combine(dir.FullName, "recipes", recipes))) return dir.FullName;
        return null;
    }
}
