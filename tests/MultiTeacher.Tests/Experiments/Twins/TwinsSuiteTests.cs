using MultiTeacher.Experiments;
using MultiTeacher.Experiments.Twins;
using MultiTeacher.Runs;
using MultiTeacher.Tests.Cli;
using MultiTeacher.Tests.Lineage;
using Xunit.Abstractions;

namespace MultiTeacher.Tests.Experiments.Twins;

[Trait("Category", TestCategory.Database)]
[Collection("postgres")]
public sealed class TwinsSuiteTests(PostgresFixture postgres, ITestOutputHelper log) : TempDirectoryTest
{
    [Fact]
    public void Twins_TrainsTeacherTwinsAndEveryStudentPerSeed_ChoosesAlmOnValidation_AndReportsEveryGoal()
    {
        MultiTeacher.Runtime.GlibcAllocator.KeepFreedMemory();
        var db = postgres.NewDatabase();
        var recipes = Path.Combine(DemoPaths.FindRecipes("experiments"), "twins");
        var report = Path.Combine(TempDir, "docs", "experiment-twins.md");
        // The shipped recipes, a few steps each: the suite as it runs, on two test documents per genre.
        var settings = new TwinsSettings(new DemoPaths(TestAssets.Store.Root, TempDir), recipes, report, Seeds: 2,
            Grid: [new AlmChoice(5, 0.1), new AlmChoice(100, 0.1, Balance: true)], TestDocuments: 2, ValidationDocuments: 1,
            Overrides: ["train.steps=2", "train.warmup_steps=0", "train.batch_size=2", "data.seq_len=16"], Database: db, MixedCharacters: 3000,
            StudentSeeds: new Dictionary<string, int> { ["foreign-uld"] = 1 });
        var output = new StringWriter();
        var result = TwinsSuite.Run(settings, output, CancellationToken.None);
        log.WriteLine(output.ToString());

        var students = new[] { "hard-label", "same-fused", "same-fused-lump", "same-fused-foreign_positions", "same-fused-seed2", "same-alm", "foreign-first_token", "foreign-first_token-rkl", "same-fused-rkl", "foreign-first_token-boundary", "foreign-first_token-rkl-boundary", "foreign-first_token-jsd", "same-fused-jsd", "foreign-first_token-tv", "same-fused-tv", "foreign-first_token-min_ce", "foreign-first_token-avg_ce", "foreign-uld", "foreign-alm", "foreign-exact", "foreign-exact_lump",
            "single-press-alm", "single-learned-alm", "single-fiction-alm", "single-press-exact_lump", "single-learned-exact_lump", "single-fiction-exact_lump",
            "single-press-first_token", "single-learned-first_token", "single-fiction-first_token",
            "single-press-first_token-rkl", "single-learned-first_token-rkl", "single-fiction-first_token-rkl" };
        var teachers = new[] { "press-mistral", "press-llama3", "learned-mistral", "learned-llama3", "fiction-mistral", "fiction-qwen3", "press-mistral-seed2", "learned-mistral-seed2", "fiction-mistral-seed2" };
        var text = File.ReadAllText(report);
        foreach (var name in students) Assert.Contains($"| {name} | ", text);
        foreach (var name in teachers) Assert.Matches($@"\| \w+ \| {name} \| \d\.\d{{4}} \| 0\.\d{{3}} \| [+-]\d\.\d{{4}} \[", text);
        foreach (var method in TwinsFigures.Methods) Assert.Matches($@"\| {method} \| [+-]\d\.\d{{4}} \[.*\] \| .* \| (-?\d+\.\d\d \[|undefined)", text);
        Assert.Equal(3 * 3 + 2 + 2, result.Goals().Count);
        Assert.Contains("(chosen)", text);
        Assert.Equal(2, System.Text.RegularExpressions.Regex.Matches(text, @"\| (5 \| 0\.1 \| α 0\.5|100 \| 0\.1 \| gradient balancing) \| \d\.\d{4}").Count);
        Assert.Matches(@"\| foreign-alm − same-alm \| [+-]\d\.\d{4} \[", text);
        Assert.Matches(@"\| foreign-first_token − same-fused-foreign_positions \| [+-]\d\.\d{4} \[", text);
        // The reverse-KL pair: the swap under that setting, against its own control and against same-fused.
        // Each divergence's row: Δ of each side against hard labels and against its forward-KL student, in that order.
        var f = result.Figures;
        foreach (var divergence in new[] { "jsd", "rkl", "tv" })
        {
            var row = System.Text.RegularExpressions.Regex.Match(text, $@"\| {divergence} \| ([+-]\d\.\d{{4}}) \[.*?\] \| ([+-]\d\.\d{{4}}) \[.*?\] \| ([+-]\d\.\d{{4}}) \[.*?\] \| ([+-]\d\.\d{{4}}) \[.*?\] \| ");
            Assert.True(row.Success, divergence);
            var (foreign, same) = ($"foreign-first_token-{divergence}", $"same-fused-{divergence}");
            double[] expected = [f.Delta(foreign, "hard-label", null).Estimate, f.Delta(foreign, "foreign-first_token", null).Estimate,
                f.Delta(same, "hard-label", null).Estimate, f.Delta(same, "same-fused", null).Estimate];
            for (var i = 0; i < 4; i++) Assert.Equal(expected[i], double.Parse(row.Groups[i + 1].Value, System.Globalization.CultureInfo.InvariantCulture), 4);
            Assert.Matches($@"\| first_token-{divergence} \| [+-]\d\.\d{{4}} \[", text);
        }
        // A setting with no same-tokenizer counterpart is still a method, judged against same-fused, and is
        // shown against the foreign student without it.
        Assert.Matches(@"\| first_token-boundary \| [+-]\d\.\d{4} \[.*\] \| .* \| (-?\d+\.\d\d \[|undefined)", text);
        Assert.Matches(@"\| first_token-rkl-boundary \| [+-]\d\.\d{4} \[", text);
        Assert.Matches(@"\| foreign-first_token-rkl-boundary − foreign-first_token-rkl \| [+-]\d\.\d{4} \[", text);
        Assert.Matches(@"\| foreign-first_token-boundary − foreign-first_token \| [+-]\d\.\d{4} \[", text);
        Assert.DoesNotMatch(@"\| foreign-first_token-rkl − foreign-first_token \|", text);   // paired with same-fused-rkl: shown with it instead
        // Every teacher's target at top-64 and top-1024 against the hard-label student, at the same aligned positions.
        foreach (var name in teachers) Assert.Matches($@"\| \w+ \| {name} \| [1-9]\d* \| \d+\.\d{{3}} \| \d+\.\d{{3}} \| \d+\.\d{{3}} \|", text);
        // The twins compared: at the foreign twin's aligned positions, the very positions of its target row above.
        // The seed copy shares the student's tokenizer: every position, every event agreed, and yet another teacher.
        foreach (var (genre, other) in new[] { ("press", "press-llama3"), ("learned", "learned-llama3"), ("fiction", "fiction-qwen3"),
            ("press", "press-mistral-seed2"), ("learned", "learned-mistral-seed2"), ("fiction", "fiction-mistral-seed2") })
        {
            var agreement = result.Figures.Results.Agreement![other];
            var target = result.Figures.Results.Targets![other][0].Quality;
            Assert.Equal(target.Positions, agreement.Positions);
            Assert.InRange(agreement.GoldReached, 1, agreement.Positions);
            if (other.EndsWith("-seed2", StringComparison.Ordinal))
            {
                Assert.Equal(agreement.Positions, agreement.GoldMapped);
                Assert.Equal(target.Positions, result.Figures.Results.Targets![genre + "-mistral"][0].Quality.Positions);
                Assert.True(agreement.TotalVariation > 0, other);
            }
            Assert.Matches($@"\| {genre} \| {other} \| {agreement.Positions} \| \d+\.\d % \| {agreement.GoldReached} \| (\d+\.\d{{3}} \| ){{8}}\d+\.\d{{3}} \|", text);
        }
        Assert.Matches(@"\| same-fused-seed2 − same-fused \| [+-]\d\.\d{4} \[", text);
        Assert.Matches(@"\| press \| press-mistral-seed2 \| \d\.\d{4} \| 0\.\d{3} \| [+-]\d\.\d{4} \[.*\] \| [+-]\d\.\d{4} \[", text);
        // Every student exists once per seed, each a succeeded run in lineage (the chosen search point is the ALM student's seed 1).
        var store = new MultiTeacher.Lineage.LineageStore(db);
        var figures = result.Figures.Results;
        Assert.Equal(students.Length * 2 - 1, figures.Students.Count);
        Assert.Contains("| hard-label | 2 | ", text);
        Assert.Contains("| foreign-uld | 1 | ", text);
        Assert.All(figures.Students.Concat(figures.Teachers), m => Assert.Equal(RunStatus.Succeeded, store.Run(m.RunId!.Value)!.Status));
        // A marginalised student logs, every step, the share of each foreign twin's target mass it moved.
        var marginalized = store.Metrics(figures.Students.First(s => s.Name == "foreign-first_token-boundary").RunId!.Value);
        Assert.All(new[] { "press-llama3", "learned-llama3", "fiction-qwen3" }, t => Assert.InRange(marginalized[(1, $"marginalized/{t}")], 0, 1));
        Assert.All(students, s => Assert.Equal(s == "foreign-uld" ? 1 : 2, figures.Scores[s].Length));
        Assert.All(teachers, t => Assert.Single(figures.Scores[t]));
        Assert.All(figures.Scores.Values.SelectMany(r => r), row => Assert.Equal(6, row.Length));
        // Documents genre by genre (press, learned, fiction): a teacher reads its own genre's only.
        Assert.Equal([false, false, true, true, true, true], figures.Scores["press-llama3"][0].Select(double.IsNaN));
        Assert.DoesNotContain(figures.Scores["hard-label"].SelectMany(r => r), double.IsNaN);

        // Rescoring reuses every model: no new run.
        var runs = store.Runs(1000).Count;
        TwinsSuite.Run(settings with { Reuse = true }, TextWriter.Null, CancellationToken.None);
        Assert.Equal(runs, store.Runs(1000).Count);

        // A subset of the students: only those are scored, the command line says so, and the goals it cannot judge say why.
        var subset = TwinsSuite.Run(settings with { Reuse = true, Students = ["hard-label", "same-fused", "foreign-first_token*"] }, TextWriter.Null, CancellationToken.None);
        Assert.Equal(runs, store.Runs(1000).Count);
        Assert.Equal(["foreign-first_token", "foreign-first_token-avg_ce", "foreign-first_token-boundary", "foreign-first_token-jsd", "foreign-first_token-min_ce", "foreign-first_token-rkl", "foreign-first_token-rkl-boundary", "foreign-first_token-tv", "hard-label", "same-fused"],
            subset.Figures.Results.Students.Select(s => s.Name).Distinct().Order(StringComparer.Ordinal));
        var subsetText = File.ReadAllText(report);
        Assert.Contains($"`mt experiment --suite twins --reuse --seeds 2 --student-seeds foreign-uld=1 --documents 2 --students hard-label same-fused 'foreign-first_token*' --report {report}`", subsetText);
        Assert.Contains(subset.Goals(), g => !g.Met && g.Figures.Contains("not measured"));
        Assert.Contains("Not searched: foreign-alm", subsetText);

        // Settings without their forward-KL foreign student: no pair to show, and nothing throws.
        var unpaired = TwinsSuite.Run(settings with { Reuse = true, Students = ["hard-label", "same-fused", "foreign-first_token-rkl", "same-fused-rkl"] }, TextWriter.Null, CancellationToken.None);
        Assert.Empty(unpaired.Figures.PairedVariants);
        Assert.DoesNotContain("The swap under other settings", File.ReadAllText(report));
        // An entry that names no recipe, and an ALM student without the one ALM's settings are chosen on, are refused; nothing trains.
        var typo = Assert.Throws<BadInputException>(() => TwinsSuite.Run(settings with { Reuse = true, Students = ["hard-label", "same-fused", "foreign-first_token-rk1"] }, TextWriter.Null, CancellationToken.None));
        Assert.Contains("--students foreign-first_token-rk1 names no recipe", typo.Message);
        var alm = Assert.Throws<BadInputException>(() => TwinsSuite.Run(settings with { Reuse = true, Students = ["hard-label", "same-fused", "same-alm"] }, TextWriter.Null, CancellationToken.None));
        Assert.Contains("same-alm, an ALM student, without foreign-alm", alm.Message);
        Assert.Equal(runs, store.Runs(1000).Count);
    }

    [Fact]
    public void Twins_WithoutTheHardLabelStudent_IsBadInput()
    {
        var (code, output, error) = CliRunner.Run("", "experiment", "--suite", "twins", "--students", "same-fused", "--work", TempDir);
        Assert.Equal(2, code);
        Assert.Contains("--students must include hard-label", output + error);
    }

    [Fact]
    public void Twins_WithoutSeeds_IsBadInput()
    {
        var (code, output, error) = CliRunner.Run("", "experiment", "--suite", "twins", "--seeds", "0", "--work", TempDir);
        Assert.Equal(2, code);
        Assert.Contains("--seeds must be at least 1", output + error);
    }
}
