using MultiTeacher.Recipes;
using MultiTeacher.Runtime;
using MultiTeacher.Tokenization;
using static TorchSharp.torch;

namespace MultiTeacher.Teachers;

/// <summary>One student token of a sample text, with each teacher's mixing weight for predicting it (empty where no teacher aligns).</summary>
public sealed record TokenContribution(string Text, IReadOnlyDictionary<string, double> Weights)
{
    public string? Dominant => Weights.Count == 0 ? null : Weights.MaxBy(kv => kv.Value).Key;
}

/// <summary>
/// Which teacher the recipe's mixing policy leans on for each token of a text: the teachers run on
/// it, align to the student's tokens, and the policy's per-position weights are read off.
/// </summary>
public static class TeacherContribution
{
    public static IReadOnlyList<TokenContribution> Compute(Recipe recipe, string text, string cacheRoot)
    {
        var student = HfTokenizer.FromDirectory(recipe.Student.TokenizerDirectory);
        using var teachers = TeacherSet.Load(recipe, student, TorchDevices.Of(recipe.Device), new TeacherHashes(), cacheRoot, TextWriter.Null);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var full = student.Encode(text);
        var n = Math.Min(full.Count, recipe.Data.SequenceLength + 1);
        var encoding = full.Take(n);
        var t = n - 1;
        var gold = tensor(encoding.Ids[1..].Select(i => (long)i).ToArray()).view(1, t);                 // (1, T)
        var contributions = Enumerable.Range(0, n).Select(j => new TokenContribution(text[encoding.Offsets[j].Start..encoding.Offsets[j].End], new Dictionary<string, double>())).ToArray();
        if (teachers.Count == 0 || t == 0) return contributions;
        var batch = TeacherEnsemble.Run(teachers.Teachers, student, [new SampleView(0, text, encoding)], t, teachers.TopK, teachers.Tail, gold, teachers.Boundary);
        if (batch.Positions.Length == 0) return contributions;
        var weights = teachers.Mixing!.Mix(batch.Input).Weights.to(float32).data<float>().ToArray();                 // (K, N) row-major
        for (var p = 0; p < batch.Positions.Length; p++)
        {
            var predicted = (int)(batch.Positions[p] % t) + 1;
            contributions[predicted] = contributions[predicted] with
            {
                Weights = teachers.Teachers.Select((x, k) => (x.Name, W: (double)weights[k * batch.Positions.Length + p])).Where(x => x.W > 0).ToDictionary(x => x.Name, x => x.W),
            };
        }
        return contributions;
    }
}
