using MultiTeacher.Alignment;
using MultiTeacher.Corpora;
using MultiTeacher.Evaluation;
using MultiTeacher.Models;
using MultiTeacher.Recipes;
using MultiTeacher.Teachers;
using MultiTeacher.Tokenization;

namespace MultiTeacher.Experiments.Twins;

/// <summary>
/// Bits per byte of the experiment's models per document (each document scored whole in windows
/// of 64 tokens, as the first experiment does), a teacher's top-64 mass on text, and the quality of
/// its distillation target against a student's own predictions.
/// </summary>
public sealed class TwinsScorer(IReadOnlyList<GenreSplit> splits)
{
    public const int Window = 64, TopK = 64;

    /// <summary>Windows of 64 teacher tokens the top-64 mass is measured on (about 8,000 tokens; the mean settles well before).</summary>
    public const int MassWindows = 128;

    /// <summary>Bits per byte over every validation document of every genre (bits over bytes, so longer documents weigh more).</summary>
    public double Validation(string modelDirectory)
    {
        using var model = PretrainedModel.Load(modelDirectory);
        var tokenizer = HfTokenizer.FromDirectory(modelDirectory);
        var scores = BitsPerByte.PerDocument(model, tokenizer, splits.SelectMany(s => s.Validation).Select(d => d.Text), Window);
        return scores.Sum(s => s.BitsPerByte * s.Bytes) / scores.Sum(s => s.Bytes);
    }

    /// <summary>
    /// Per model name, its bits per byte as [seed][test document], documents genre by genre in split
    /// order. A model given a genre (a teacher) is scored on that genre's documents only, NaN elsewhere:
    /// it is compared only there, and a teacher's large vocabulary makes every document it reads costly.
    /// </summary>
    public IReadOnlyDictionary<string, double[][]> Test(IReadOnlyList<TwinsModel> models, Func<TwinsModel, string?> genreOf)
    {
        var documents = splits.SelectMany(s => s.Test.Select(d => (s.Genre, d.Text))).ToList();
        return models.GroupBy(m => m.Name).ToDictionary(g => g.Key, g => g.OrderBy(m => m.Seed).Select(m =>
        {
            var genre = genreOf(m);
            var read = documents.Select((d, i) => (d, i)).Where(x => genre is null || x.d.Genre == genre).ToList();
            using var model = PretrainedModel.Load(m.Directory);
            var tokenizer = HfTokenizer.FromDirectory(m.Directory);
            var scores = BitsPerByte.PerDocument(model, tokenizer, read.Select(x => x.d.Text), Window);
            var row = Enumerable.Repeat(double.NaN, documents.Count).ToArray();
            for (var k = 0; k < read.Count; k++) row[read[k].i] = scores[k].BitsPerByte;
            return row;
        }).ToArray());
    }

    /// <summary>The top-k of distillation targets measured in the report: the demo's default and the experiment's.</summary>
    public static readonly IReadOnlyList<int> TargetTopK = [64, 1024];

    /// <summary>Lines (sentences) of test text the targets are measured on, each cut to <see cref="Window"/> student tokens.</summary>
    public const int TargetLines = 160;

    /// <summary>
    /// The teacher's distillation target (first_token projection, tail spread) at each of
    /// <see cref="TargetTopK"/>, against <paramref name="studentDirectory"/>'s own predictions at the
    /// same student positions, on the documents' first <see cref="TargetLines"/> lines.
    /// </summary>
    public IReadOnlyList<(int TopK, TargetQuality Quality)> Targets(string teacherDirectory, string studentDirectory, IReadOnlyList<BrownDocument> documents)
    {
        using var teacher = PretrainedModel.Load(teacherDirectory);
        using var student = PretrainedModel.Load(studentDirectory);
        var (teacherTokenizer, studentTokenizer) = (HfTokenizer.FromDirectory(teacherDirectory), HfTokenizer.FromDirectory(studentDirectory));
        var projection = VocabularyProjection.Build(teacherTokenizer, studentTokenizer, ProjectionMethod.FirstToken);
        var asTeacher = new Teacher(new TeacherSettings { Name = Path.GetFileName(teacherDirectory), Path = teacherDirectory }, teacher, teacherTokenizer, projection);
        var lines = Lines(documents);
        return TargetTopK.Select(k => (k, TargetQuality.Measure(asTeacher, k, student, studentTokenizer, lines, Window))).ToList();
    }

    /// <summary>
    /// A genre's twins compared as distillation targets on the documents' first <see cref="TargetLines"/>
    /// lines: the foreign twin's full distribution projected by first_token against the same-tokenizer
    /// twin's, and each against <paramref name="studentDirectory"/>'s own, where the foreign twin is aligned.
    /// </summary>
    public TargetAgreement Agreement(string sameDirectory, string foreignDirectory, string studentDirectory, IReadOnlyList<BrownDocument> documents)
    {
        using var same = PretrainedModel.Load(sameDirectory);
        using var foreign = PretrainedModel.Load(foreignDirectory);
        using var student = PretrainedModel.Load(studentDirectory);
        var (foreignTokenizer, studentTokenizer) = (HfTokenizer.FromDirectory(foreignDirectory), HfTokenizer.FromDirectory(studentDirectory));
        var projection = VocabularyProjection.Build(foreignTokenizer, studentTokenizer, ProjectionMethod.FirstToken);
        return TargetAgreement.Measure(same, foreign, foreignTokenizer, projection, student, studentTokenizer, Lines(documents), Window);
    }

    private static List<string> Lines(IReadOnlyList<BrownDocument> documents) =>
        documents.SelectMany(d => d.Text.Split('\n')).Where(l => l.Trim().Length > 0).Take(TargetLines).ToList();

    /// <summary>Mean over the positions of the documents' first <see cref="MassWindows"/> windows of the probability held by the model's 64 most likely tokens.</summary>
    public double TopMass(string modelDirectory, IReadOnlyList<BrownDocument> documents)
    {
        using var model = PretrainedModel.Load(modelDirectory);
        var tokenizer = HfTokenizer.FromDirectory(modelDirectory);
        var windows = documents.SelectMany(d => tokenizer.Encode(d.Text).Ids.Chunk(Window)).Where(w => w.Length > 1).Take(MassWindows).ToList();
        var records = TeacherRecords.Compute(model, windows, TopK);
        double kept = 0;
        long positions = 0;
        for (var w = 0; w < windows.Count; w++)
            for (var p = 0; p < windows[w].Length; p++, positions++) kept += 1 - records.Tail(w, p);
        return kept / positions;
    }
}
