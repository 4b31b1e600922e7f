namespace MultiTeacher.Recipes;

/// <summary>One problem in a recipe, located by line and column (0 where it has none, as for a command-line override).</summary>
public sealed record RecipeError(string File, long Line, long Column, string Message)
{
    public override string ToString() => Line > 0 ? $"{File}:{Line}:{Column}: {Message}" : $"{File}: {Message}";
}

/// <summary>A recipe that failed validation; lists every problem found, not just the first.</summary>
public sealed class RecipeException(IReadOnlyList<RecipeError> errors)
    : BadInputException(string.Join(Environment.NewLine, errors))
{
    public IReadOnlyList<RecipeError> Errors { get; } = errors;
}
