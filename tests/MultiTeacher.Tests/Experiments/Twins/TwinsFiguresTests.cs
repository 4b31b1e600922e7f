using MultiTeacher.Corpora;
using MultiTeacher.Experiments.Twins;

namespace MultiTeacher.Tests.Experiments.Twins;

[Trait("Category", TestCategory.Unit)]
public sealed class TwinsFiguresTests
{
    // Two press documents and one fiction document, two seeds per student, one row per teacher.
    private static readonly Dictionary<string, double[][]> Scores = new()
    {
        ["hard-label"] = [[3.0, 2.0, 4.0], [3.2, 2.2, 4.0]],
        ["same-fused"] = [[2.8, 1.9, 3.0], [3.0, 2.0, 3.0]],
        ["foreign-alm"] = [[2.9, 1.95, 4.0], [3.1, 2.15, 4.0]],
        ["press-mistral"] = [[2.5, 1.5, 5.0]],
    };

    private static TwinsFigures Figures(Dictionary<string, double[][]>? scores = null)
    {
        static BrownDocument Doc(string id) => new(id, 'a', "press", "text");
        List<GenreSplit> splits = [new("press", [Doc("a1")], [Doc("a2")], [Doc("a3"), Doc("a4")]), new("fiction", [Doc("k1")], [Doc("k2")], [Doc("k3")])];
        var teacher = new TwinsModel("press-mistral", 0, "unused", null, false, 0);
        return new TwinsFigures(new TwinsResults(splits, [teacher], [], scores ?? Scores, new Dictionary<string, double>(), [], new AlmChoice(5, 0.1), 2, TimeSpan.Zero));
    }

    [Fact]
    public void AGenresTwins_AreTheMistralTeacherAndTheForeignOne_TheSeedCopyApart()
    {
        static TwinsModel T(string name) => new(name, 0, "unused", null, false, 0);
        List<GenreSplit> splits = [new("press", [], [], []), new("fiction", [], [], [])];
        var f = new TwinsFigures(new TwinsResults(splits, [T("press-mistral-seed2"), T("press-llama3"), T("press-mistral"), T("fiction-qwen3"), T("fiction-mistral")],
            [], new Dictionary<string, double[][]>(), new Dictionary<string, double>(), [], new AlmChoice(5, 0.1), 1, TimeSpan.Zero));

        Assert.Equal(("press-mistral", "press-llama3"), f.Twins("press"));
        Assert.Equal("press-mistral-seed2", f.SeedTwin("press"));
        Assert.Equal(("fiction-mistral", "fiction-qwen3"), f.Twins("fiction"));
        Assert.Null(f.SeedTwin("fiction"));
    }

    [Fact]
    public void TransferEfficiency_IsTheForeignGainOverTheSameTokenizerGain_OnTheGenresDocuments()
    {
        var f = Figures();
        // Press: foreign Δ cells -0.1, -0.05, -0.1, -0.05 (mean -0.075); same Δ -0.2, -0.1, -0.2, -0.2 (mean -0.175).
        Assert.Equal(-0.075, f.ForeignGain("alm", "press").Estimate, 12);
        Assert.Equal(-0.175, f.SameGain("press").Estimate, 12);
        Assert.Equal(0.075 / 0.175, f.TransferEfficiency("alm", "press")!.Estimate, 12);
        // All documents: foreign mean -0.3/6 = -0.05, same -2.7/6 = -0.45.
        Assert.Equal(0.05 / 0.45, f.TransferEfficiency("alm")!.Estimate, 12);
    }

    [Fact]
    public void ARatioOverAGainWhoseIntervalIncludesZero_IsUndefined()
    {
        // same-fused − hard-label cells: +0.1, −0.1, +0.1 and −0.1, +0.1, −0.1: mean 0, and resamples fall on both sides.
        var scores = new Dictionary<string, double[][]>(Scores) { ["same-fused"] = [[3.1, 1.9, 4.1], [3.1, 2.3, 3.9]] };
        var f = Figures(scores);
        Assert.True(f.SameGain().Low < 0 && f.SameGain().High > 0);
        Assert.Null(f.TransferEfficiency("alm"));
        // The same figures with a gain clear of zero give the ratio of means.
        Assert.Equal(0.05 / 0.45, Figures().GainRatio("foreign-alm", "same-fused")!.Estimate, 12);
    }

    [Fact]
    public void ATeacherWithOneRow_IsPairedWithEverySeedOfTheStudent()
    {
        // Seed 1: 2.5 − 3.0 and 1.5 − 2.0; seed 2: 2.5 − 3.2 and 1.5 − 2.2; mean -0.6 (against seed 1 alone it would be -0.5).
        var f = Figures();
        var cells = f.Difference("press-mistral", "hard-label", "press");
        Assert.Equal(2, cells.Length);
        Assert.All(cells[0], c => Assert.Equal(-0.5, c, 12));
        Assert.All(cells[1], c => Assert.Equal(-0.7, c, 12));
        Assert.Equal(-0.6, f.Delta("press-mistral", "hard-label", "press").Estimate, 12);
        Assert.Equal((2.5 + 1.5) / 2, f.Mean("press-mistral", "press"), 12);
        Assert.Equal((2.9 + 1.95 + 4.0 + 3.1 + 2.15 + 4.0) / 6, f.Mean("foreign-alm", null), 12);
    }

    [Fact]
    public void ThreeTeacherClaim_UsesTheBestMethodWithSingleTeacherStudentsForEveryGenre()
    {
        double[][] Row(double x) => [[x, x, x]];
        var scores = new Dictionary<string, double[][]>(Scores)
        {
            ["foreign-exact_lump"] = Row(2.0), ["foreign-first_token"] = Row(1.0),
            ["single-press-alm"] = Row(3.0), ["single-fiction-alm"] = Row(3.0),
            ["single-press-exact_lump"] = Row(2.6), ["single-fiction-exact_lump"] = Row(2.4),
        };
        var f = Figures(scores);
        // first_token gains most but has no single-teacher students; exact_lump (2.0) beats alm (3.0 on average).
        Assert.Equal("first_token", f.BestMethod);
        Assert.Equal(["first_token", "alm", "exact_lump"], f.MethodsRun);
        Assert.Equal("exact_lump", f.ThreeTeacherMethod);
        Assert.Equal("foreign-exact_lump", f.ThreeTeachers);
        Assert.Equal("single-fiction-exact_lump", f.BestSingle);
        scores.Remove("single-fiction-exact_lump");
        Assert.Equal("single-press-alm", Figures(scores).BestSingle);
    }

    [Fact]
    public void WithoutSingleTeacherStudents_ThereIsNoThreeTeacherClaim()
    {
        var f = Figures();
        Assert.Equal("alm", f.BestMethod);
        Assert.Null(f.ThreeTeacherMethod);
        Assert.Null(f.ThreeTeachers);
        Assert.Null(f.BestSingle);
    }

    [Fact]
    public void PairedVariants_AreTheSuffixesRunWithBothTheForeignAndTheSameTokenizerTwins_AndEveryForeignSettingIsAMethod()
    {
        double[][] Row(double x) => [[x, x, x]];
        var scores = new Dictionary<string, double[][]>(Scores)
        {
            ["foreign-first_token"] = Row(2.9), ["foreign-first_token-reverse_kl"] = [[2.8, 1.8, 3.8]], ["same-fused-reverse_kl"] = [[2.5, 1.5, 3.5]],
            ["foreign-first_token-min_ce"] = Row(2.9), ["same-fused-lump"] = Row(2.7), ["foreign-first_token-jsd"] = Row(2.95), ["same-fused-jsd"] = Row(2.9),
        };
        var f = Figures(scores);
        Assert.Equal(["jsd", "reverse_kl"], f.PairedVariants);
        // Every setting run with the foreign twins is a method against same-fused, paired or not; an
        // unpaired one is shown against the foreign student without it.
        Assert.Equal(["first_token", "alm", "first_token-jsd", "first_token-min_ce", "first_token-reverse_kl"], f.MethodsRun);
        Assert.Equal([("foreign-first_token-min_ce", "foreign-first_token")], f.ForeignSettings);
        // Without the forward-KL foreign student there is nothing to pair a setting against.
        scores.Remove("foreign-first_token");
        Assert.Empty(Figures(scores).PairedVariants);
        Assert.Empty(Figures(scores).ForeignSettings);
        f = Figures(new Dictionary<string, double[][]>(scores) { ["foreign-first_token"] = Row(2.9) });
        // Each one-seed row stands against both hard-label seeds: foreign Δ −0.2 ×4, −0.4 ×2 (mean −0.8/3), same −0.5 ×4, −0.7 ×2 (mean −1.7/3).
        Assert.Equal(0.8 / 1.7, f.GainRatio("foreign-first_token-reverse_kl", "same-fused-reverse_kl")!.Estimate, 12);
    }

    [Fact]
    public void TheCommandLine_NamesEveryOptionThatDiffersFromItsDefault_QuotedForTheShell()
    {
        var root = Path.Combine(Path.GetTempPath(), "repo");
        var recipes = Path.Combine(root, "recipes", "experiments", "twins");
        var plain = new TwinsSettings(new MultiTeacher.Experiments.DemoPaths("unused", "unused"), recipes, Path.Combine(root, "docs", "experiment-twins.md"));
        Assert.Equal("mt experiment --suite twins", plain.CommandLine());
        var subset = plain with
        {
            Reuse = true, Seeds = 2, TestDocuments = 4, Report = Path.Combine(root, "docs", "other.md"),
            StudentSeeds = new Dictionary<string, int> { ["foreign-uld"] = 1, ["foreign-alm"] = 2 }, Students = ["hard-label", "same-fused*", "it's"],
        };
        Assert.Equal("mt experiment --suite twins --reuse --seeds 2 --student-seeds foreign-alm=2 --student-seeds foreign-uld=1 --documents 4 "
            + "--students hard-label 'same-fused*' 'it'\\''s' --report docs/other.md", subset.CommandLine());
        Assert.EndsWith("--report /elsewhere/r.md", (subset with { Report = "/elsewhere/r.md" }).CommandLine());
    }

    [Theory]
    [InlineData(null, "foreign-uld", true)]
    [InlineData("hard-label,same-fused*", "same-fused-lump", true)]
    [InlineData("hard-label,same-fused*", "same-fused", true)]
    [InlineData("hard-label,same-fused*", "hard-label-x", false)]
    [InlineData("hard-label,same-fused*", "foreign-first_token", false)]
    public void AStudentsListNamesRecipesOrPrefixes(string? only, string student, bool runs)
    {
        var settings = new TwinsSettings(new MultiTeacher.Experiments.DemoPaths("unused", "unused"), "unused", "unused",
            Students: only?.Split(','));
        Assert.Equal(runs, settings.Runs(student));
    }
}
