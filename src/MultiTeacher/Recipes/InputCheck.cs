namespace MultiTeacher.Recipes;

/// <summary>An input of a recorded recipe no longer has the content it had when the run was submitted.</summary>
public sealed class InputsChangedException(IReadOnlyList<string> inputs)
    : Exception($"inputs changed since the recipe was recorded: {string.Join(", ", inputs)}")
{
    public IReadOnlyList<string> Inputs { get; } = inputs;
}

/// <summary>Checks that every input of a resolved recipe still hashes to what was recorded.</summary>
public static class InputCheck
{
    public static void Verify(Recipe recipe, IReadOnlyDictionary<string, string> recorded)
    {
        var now = ResolvedRecipe.Resolve(recipe).Hashes;
        var changed = recorded.Where(kv => !now.TryGetValue(kv.Key, out var h) || h != kv.Value).Select(kv => kv.Key)
            .Concat(now.Keys.Where(k => !recorded.ContainsKey(k))).Order(StringComparer.Ordinal).ToList();
        if (changed.Count > 0) throw new InputsChangedException(changed);
    }
}
