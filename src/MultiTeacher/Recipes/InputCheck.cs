namespace MultiTeacher.Recipes;

/// <summary>An input of a recorded recipe no longer has the content it had when the run was submitted.</summary>
public sealed class InputsChangedException(IReadOnlyList<string> inputs)
    : BadInputException($"inputs changed since the recipe was recorded: {string.Join(", ", inputs)}")
{
    public IReadOnlyList<string> Inputs { get; } = inputs;
}

/// <summary>Checks that every input of a resolved recipe still hashes to what was recorded.</summary>
public static class InputCheck
{
    /// <param name="only">The inputs to check (default: all); a stage hashes only what it reads, since teachers can be many GB.</param>
    /// <param name="hashes">Remembers file hashes across checks (a worker's); default: every file is read again.</param>
    public static void Verify(Recipe recipe, IReadOnlyDictionary<string, string> recorded, Func<string, bool>? only = null, RememberedHashes? hashes = null)
    {
        var inputs = ResolvedRecipe.Inputs(recipe).Where(kv => only?.Invoke(kv.Key) ?? true).ToList();
        var changed = inputs.Where(kv => !recorded.TryGetValue(kv.Key, out var h) || h != ContentHash.Of(kv.Value, hashes is null ? null : hashes.OfFile)).Select(kv => kv.Key)
            .Concat(recorded.Keys.Where(k => (only?.Invoke(k) ?? true) && inputs.All(i => i.Key != k))).Order(StringComparer.Ordinal).ToList();
        if (changed.Count > 0) throw new InputsChangedException(changed);
    }
}
