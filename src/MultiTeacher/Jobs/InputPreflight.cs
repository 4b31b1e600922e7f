using MultiTeacher.Checkpoints;
using MultiTeacher.Data;
using MultiTeacher.Models;
using MultiTeacher.Recipes;
using MultiTeacher.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace MultiTeacher.Jobs;

/// <summary>
/// Reads every input of a recipe the way its run will, before the run is recorded: data files
/// (regular, within size, strict UTF-8), tokenizers (fully validated), configs (within limits)
/// and checkpoints (names and shapes against the config, on the meta device). Bad input then
/// fails in one line with nothing recorded, instead of as a failed run minutes later.
/// </summary>
public static class InputPreflight
{
    public static void Check(Recipe recipe)
    {
        TextCorpus.Check(recipe.Data.Train, recipe.Data.Format);
        if (recipe.Data.Eval is { } eval) TextCorpus.Check(eval, recipe.Data.Format);
        foreach (var teacher in recipe.Teachers) Model(teacher.Path);
        if (recipe.Student.Init is { } init) Model(init);
        if (recipe.Student.Config is { } config) ModelConfig.FromFile(config);
        HfTokenizer.FromDirectory(recipe.Student.TokenizerDirectory);
    }

    private static void Model(string directory)
    {
        var config = ModelConfig.FromPretrained(directory);
        HfTokenizer.FromDirectory(directory);
        using var checkpoint = new Checkpoint(directory);
        using var meta = new CausalLM(config, new Device(DeviceType.META));
        checkpoint.Verify(meta);
    }
}
