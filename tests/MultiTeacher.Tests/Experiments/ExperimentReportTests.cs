using MultiTeacher.Corpora;
using MultiTeacher.Experiments;
using MultiTeacher.Recipes;

namespace MultiTeacher.Tests.Experiments;

[Trait("Category", TestCategory.Unit)]
public sealed class ExperimentReportTests : TempDirectoryTest
{
    private static readonly IReadOnlyList<(string Genre, IReadOnlyList<BrownDocument> Documents)> HeldOut =
        [("press", [new("a01", 'a', "press", "x"), new("a02", 'a', "press", "y")]), ("fiction", [new("k01", 'k', "fiction", "z"), new("k02", 'k', "fiction", "w")])];

    // Bits per byte per document, press then fiction.
    private static Dictionary<string, Dictionary<string, double[]>> Scores(bool wide)
    {
        var scores = new Dictionary<string, Dictionary<string, double[]>>
        {
            ["hard-label"] = Of(2.0, 2.2, 2.4, 2.6),
            ["single-press"] = Of(1.9, 2.1, 2.5, 2.7),              // mean 2.30
            ["single-press-k1024"] = Of(1.8, 2.0, 2.3, 2.5),        // mean 2.15: the best single-teacher student
            ["fused-confidence"] = Of(1.9, 2.0, 2.3, 2.4),          // mean 2.15
            ["fused-uniform"] = Of(2.0, 2.1, 2.4, 2.5),
        };
        if (wide) scores["fused-confidence-k1024"] = Of(1.8, 2.0, 2.1, 2.3);   // mean 2.05
        return scores;
    }

    private static Dictionary<string, double[]> Of(double p1, double p2, double f1, double f2) => new() { ["press"] = [p1, p2], ["fiction"] = [f1, f2] };

    private static List<ExperimentRun> Runs(Dictionary<string, Dictionary<string, double[]>> scores) =>
        scores.Keys.Select(n => new ExperimentRun(n, new Recipe { Name = n }, null, [(80, 3.5)])).ToList();

    private static ExperimentReport Report(bool wide)
    {
        var scores = Scores(wide);
        return new ExperimentReport(Runs(scores), HeldOut, scores, TimeSpan.Zero);
    }

    [Fact]
    public void Claims_WithoutATop1024Student_AreTheThreeFixedOnes()
    {
        var claims = Report(wide: false).Claims().ToList();
        Assert.Equal(3, claims.Count);
        // fused-confidence − hard-label per document: −0.1, −0.2, −0.1, −0.2 → mean −0.15.
        Assert.Equal(-0.15, claims[0].Difference.Mean, 12);
    }

    [Fact]
    public void Claims_WithATop1024Student_CompareItFirstWithTop64ThenWithTheBestSingleTeacher()
    {
        var claims = Report(wide: true).Claims().ToList();
        Assert.Equal(5, claims.Count);
        var (_, a, b, _, top) = claims[3];
        Assert.Equal(("fused-confidence-k1024", "fused-confidence"), (a, b));
        // k1024 − top-64 per document: −0.1, 0.0, −0.2, −0.1 → mean −0.10, so the verdict reads "lower" for the top-1024 student.
        Assert.Equal(-0.10, top.Mean, 12);
        Assert.Equal(4, top.Count);
        var single = claims[4];
        Assert.Equal("single-press-k1024", single.B);
        Assert.Contains("(single-press-k1024)", single.Claim);
        // k1024 − single-press-k1024: 0.0, 0.0, −0.2, −0.2 → mean −0.10.
        Assert.Equal(-0.10, single.Difference.Mean, 12);
    }

    [Fact]
    public void RouteGains_WithoutTheRoutesControl_AreNone() => Assert.Empty(Report(wide: true).RouteGains());

    [Fact]
    public void RouteGains_CompareEachRouteModelWithTheControl_AndItsGainWithTheGainOfAStudentTaughtWithoutTransplant()
    {
        var scores = Scores(wide: true);
        scores["transplant-route.control"] = Of(1.9, 2.2, 2.3, 2.6);
        scores["transplant-route.back_to_mistral"] = Of(2.1, 2.4, 2.3, 2.5);
        scores["transplant-route.finetuned"] = Of(1.7, 2.2, 2.2, 2.4);
        scores["single-press-alm"] = Of(2.0, 2.1, 2.4, 2.5);
        var gains = new ExperimentReport(Runs(scores), HeldOut, scores, TimeSpan.Zero).RouteGains().ToList();
        // distill_mistral has no scores, so it has no row; back_to_mistral has one per student taught by its teacher without a transplant.
        Assert.Equal([("transplant-route.back_to_mistral", "single-press-k1024"), ("transplant-route.back_to_mistral", "single-press-alm"), ("transplant-route.finetuned", "fused-confidence-k1024")],
            gains.Select(g => (g.Model, g.Direct)));
        var back = gains[0];
        // back_to_mistral − control: +0.2, +0.2, 0.0, −0.1 → +0.075.
        Assert.Equal(0.075, back.Route.Mean, 12);
        // single-press-k1024 − hard-label: −0.2, −0.2, −0.1, −0.1 → −0.15.
        Assert.Equal(-0.15, back.DirectGain.Mean, 12);
        // Route gain − projection gain per document: +0.4, +0.4, +0.1, 0.0 → +0.225; positive: projection transfers more.
        Assert.Equal(0.225, back.Versus.Mean, 12);
        Assert.Equal(0, back.Versus.Lower);
        // single-press-alm − hard-label: 0.0, −0.1, 0.0, −0.1 → −0.05; route gain minus it: +0.2, +0.3, 0.0, 0.0 → +0.125.
        Assert.Equal(-0.05, gains[1].DirectGain.Mean, 12);
        Assert.Equal(0.125, gains[1].Versus.Mean, 12);
        var finetuned = gains[2];
        // finetuned − control: −0.2, 0.0, −0.1, −0.2; fused-confidence-k1024 − hard-label: −0.2, −0.2, −0.3, −0.3; difference 0.0, +0.2, +0.2, +0.1 → +0.125.
        Assert.Equal(0.125, finetuned.Versus.Mean, 12);
    }

    [Fact]
    public void Write_KeepsEveryModelsScorePerDocument_BesideTheReport()
    {
        var report = Path.Combine(TempDir, "experiment.md");
        Report(wide: false).Write(report);
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(TempDir, "experiment", "scores.json")));
        Assert.Equal(["a01", "a02"], json.RootElement.GetProperty("documents").GetProperty("press").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal([2.5, 2.7], json.RootElement.GetProperty("bits_per_byte").GetProperty("single-press").GetProperty("fiction").EnumerateArray().Select(e => e.GetDouble()));
        Assert.Contains("`experiment/scores.json`", File.ReadAllText(report));
    }
}
