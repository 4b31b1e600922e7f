namespace MultiTeacher.Tests.Recipes;

/// <summary>A recipe file in a temporary directory, next to a training text and a student tokenizer.</summary>
public abstract class RecipeTestFiles : TempDirectoryTest
{
    protected string Write(string yaml, string name = "recipe.yaml")
    {
        File.WriteAllText(Path.Combine(TempDir, "train.txt"), "Some training text.\n\nAnother paragraph.");
        var path = Path.Combine(TempDir, name);
        File.WriteAllText(path, yaml);
        return path;
    }

    protected static string Minimal(string extra = "") => $"""
        name: tiny
        data: {"{"} train: train.txt {"}"}
        student: {"{"} init: {TestAssets.TokenizerDir("mistral-7b-v0.1")} {"}"}
        {extra}
        """;

    protected static string WithTeacher(string extra = "") =>
        Minimal($"teachers:\n  - {{ name: llama, path: {TestAssets.TokenizerDir("llama3")} }}\n{extra}");
}
