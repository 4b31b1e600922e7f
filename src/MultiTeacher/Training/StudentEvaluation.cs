using MultiTeacher.Data;
using MultiTeacher.Evaluation;
using MultiTeacher.Merging;
using MultiTeacher.Models;
using MultiTeacher.Recipes;
using MultiTeacher.Tokenization;

namespace MultiTeacher.Training;

/// <summary>
/// What `mt eval` scores: a model directory on documents, with a window and a byte budget; with
/// <paramref name="SegmentAs"/>, the text cut as that tokenizer directory cuts it (<see cref="ForeignSegmentation"/>).
/// </summary>
public sealed record EvalRequest(string Model, string Data, DataFormat Format, string Field, int Window, long MaxBytes, string? SegmentAs = null);

/// <summary>
/// Scores a model as a run scored its student: the run's held-out data, its sequence length as the
/// window and its max_bytes, so evaluating a run's student reproduces the run's recorded bits per byte.
/// </summary>
public static class StudentEvaluation
{
    /// <summary>Written beside OUTPUT/student by every run.</summary>
    public const string ResolvedRecipeFile = "resolved-recipe.yaml";

    public const int DefaultWindow = 256;
    public const long DefaultMaxBytes = 1_000_000;

    /// <summary>The recipe a run recorded (resolved YAML); inputs gone since then do not prevent reading it.</summary>
    public static Recipe FromResolved(string resolvedYaml) =>
        RecipeLoader.ReadResolved(resolvedYaml, out _).Recipe ?? throw new BadInputException("the run's recorded recipe cannot be read");

    /// <summary>The recipe of the run whose student <paramref name="modelDirectory"/> is (OUTPUT/resolved-recipe.yaml beside OUTPUT/student), else null.</summary>
    public static Recipe? RecipeBeside(string modelDirectory)
    {
        var file = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(modelDirectory).TrimEnd('/'))!, ResolvedRecipeFile);
        if (!File.Exists(file)) return null;
        var recipe = FromResolved(File.ReadAllText(file));
        return Path.GetFullPath(StudentDirectory(recipe)).TrimEnd('/') == Path.GetFullPath(modelDirectory).TrimEnd('/') ? recipe : null;
    }

    public static string StudentDirectory(Recipe recipe) => Path.Combine(recipe.Output, "student");

    /// <summary>
    /// The request with every value not given taken from the run's recipe (when there is one), else
    /// the defaults; the model defaults to the recipe's student.
    /// </summary>
    public static EvalRequest Plan(Recipe? recipe, string? model, string? data, int? window, long? maxBytes, string? segmentAs = null)
    {
        model ??= recipe is null ? throw new BadInputException("give --model or --run") : StudentDirectory(recipe);
        data ??= recipe?.Data.Eval ?? throw new BadInputException(recipe is null ? "give --data (or --run RUN)" : "the run's recipe has no data.eval: give --data");
        return new EvalRequest(model, data, recipe?.Data.Format ?? DataFormat.Auto, recipe?.Data.Field ?? "text",
            window ?? recipe?.Data.SequenceLength ?? DefaultWindow, maxBytes ?? recipe?.Eval.MaxBytes ?? DefaultMaxBytes, segmentAs);
    }

    public static BitsPerByteResult Evaluate(EvalRequest request)
    {
        if (request.Window < 1) throw new BadInputException("--window must be at least 1");
        if (request.MaxBytes < 1) throw new BadInputException("--max-bytes must be at least 1");
        var tokenizer = HfTokenizer.FromDirectory(request.Model);
        Func<string, TokenEncoding> encode = request.SegmentAs is null ? text => tokenizer.Encode(text)
            : new ForeignSegmentation(tokenizer, HfTokenizer.FromDirectory(request.SegmentAs)).Encode;
        using var lm = PretrainedModel.Load(request.Model);
        lm.eval();
        return BitsPerByte.Evaluate(lm, encode, TextCorpus.Load(request.Data, request.Format, request.Field), request.Window, request.MaxBytes);
    }
}
