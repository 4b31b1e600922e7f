using MultiTeacher.Settings;

namespace MultiTeacher.Recipes;

/// <summary>The dtype a teacher's weights are loaded in.</summary>
public enum TeacherDType
{
    Float32,
    Bfloat16,
    Float16,
}

/// <summary>
/// One teacher: a Hugging Face model directory (with its tokenizer files) and its mixing weight.
/// Lives with the recipe because teacher loading reads recipes.
/// </summary>
public sealed record TeacherSettings
{
    [Setting("name", "the teacher's name in lineage, caches and reports", Required = true, Pattern = RecipeNames.Pattern, PatternHint = RecipeNames.Hint)]
    public string Name { get; init; } = "";

    [Setting("path", "Hugging Face model directory with its tokenizer files", Required = true, Path = PathUse.Input)]
    public string Path { get; init; } = "";

    [Setting("weight", "weight under the weighted and product policies", Min = 0, Max = 1e6)]
    public double Weight { get; init; } = 1.0;

    [Setting("dtype", "dtype the teacher runs in")]
    public TeacherDType DType { get; init; } = TeacherDType.Float32;

    [Setting("positions_of", "tokenizer directory: the teacher speaks only at the student positions a teacher with this tokenizer would be aligned to (a control that gives a teacher another tokenizer's coverage; not for alm)", Path = PathUse.Input)]
    public string? PositionsOf { get; init; }
}

/// <summary>The student: initialised from a model directory, or fresh from a config.json plus a tokenizer directory.</summary>
public sealed record StudentSettings
{
    [Setting("init", "model directory to start from (with its tokenizer)", Path = PathUse.Input)]
    public string? Init { get; init; }

    [Setting("config", "config.json of a freshly initialised student", Path = PathUse.Input)]
    public string? Config { get; init; }

    [Setting("tokenizer", "tokenizer directory of a student built from config", Path = PathUse.Input)]
    public string? Tokenizer { get; init; }

    public string TokenizerDirectory => Tokenizer ?? Init!;
}

/// <summary>The names a recipe gives its run and teachers: they become directory names, so they stay inside one.</summary>
public static class RecipeNames
{
    public const string Pattern = "^[A-Za-z0-9][A-Za-z0-9._-]*$";
    public const string Hint = "letters, digits, '.', '_' and '-', starting with a letter or digit";
}
