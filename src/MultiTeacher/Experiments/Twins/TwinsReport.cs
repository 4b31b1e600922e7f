using System.Globalization;
using System.Text;
using MultiTeacher.Evaluation;

namespace MultiTeacher.Experiments.Twins;

/// <summary>
/// The tokenizer-swap experiment's report: the goals with their verdicts as measured, the teacher
/// twins (test bits per byte, twin gap, margin over the hard-label student, top-64 mass), the ALM
/// grid on validation, every student's test bits per byte and the transfer efficiency of each method.
/// </summary>
public sealed class TwinsReport(TwinsResults results)
{
    public const double TwinGapGoal = 0.02, MarginGoal = 0.15, EfficiencyGoal = 0.6;
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private readonly TwinsFigures _f = new(results);

    public TwinsFigures Figures => _f;

    private static string D(BootstrapInterval i) => $"{Signed(i.Estimate)} [{Signed(i.Low)}, {Signed(i.High)}]";

    // Rounded first: a negative value that rounds to zero would otherwise print as "-+0.0000".
    private static string Signed(double x) => (Math.Round(x, 4) + 0.0).ToString("+0.0000;-0.0000", Inv);
    private static string R(BootstrapInterval? i) => i is { } r ? string.Create(Inv, $"{r.Estimate:0.00} [{r.Low:0.00}, {r.High:0.00}]") : "undefined (the denominator's interval includes zero)";
    private static string Verdict(bool met) => met ? "**met**" : "**not met**";

    /// <summary>Each goal of the experiment, whether it is met, and the figures that decide it.</summary>
    public IReadOnlyList<(string Goal, bool Met, string Figures)> Goals()
    {
        var goals = new List<(string, bool, string)>();
        foreach (var g in _f.Genres)
        {
            var (same, foreign) = _f.Twins(g);
            var gap = _f.Delta(foreign, same, g);
            goals.Add(($"{g} twins match within {TwinGapGoal} bits/byte on {g} test text", Math.Abs(gap.Estimate) <= TwinGapGoal, $"{foreign} − {same}: Δ {D(gap)}"));
            foreach (var t in new[] { same, foreign })
            {
                var margin = _f.Delta(t, TwinsFigures.HardLabel, g);
                goals.Add(($"{t} is at least {MarginGoal} bits/byte better than the hard-label student on {g}", -margin.Estimate >= MarginGoal, $"Δ {D(margin)}"));
            }
        }
        if (_f.BestMethod is { } best)
        {
            var gain = _f.ForeignGain(best);
            var efficiency = _f.TransferEfficiency(best);
            goals.Add(($"the best cross-tokenizer method ({best}) gains over hard labels, interval excluding zero", gain.High < 0, $"Δ {D(gain)}"));
            goals.Add(($"its transfer efficiency is at least {EfficiencyGoal}", efficiency is { } e && e.Estimate >= EfficiencyGoal, $"{R(efficiency)}"));
        }
        else goals.Add(("a cross-tokenizer method gains over hard labels with a transfer efficiency of at least " + EfficiencyGoal.ToString(Inv), false, NotMeasured("three-foreign-twin student (foreign-METHOD)")));
        if (_f is { ThreeTeacherMethod: { } method, ThreeTeachers: { } three, BestSingle: { } single })
        {
            var overall = _f.Delta(three, single, null);
            goals.Add(($"the three-teacher {method} student ({three}) beats the best single-teacher {method} student ({single}) overall, interval excluding zero", overall.High < 0, $"Δ {D(overall)}"));
            var perGenre = _f.Genres.Select(g => (g, Delta: _f.Delta(three, TwinsFigures.Single(g, method), g))).ToList();
            goals.Add(($"the three-teacher {method} student is no worse than each genre's single-teacher {method} student on that genre (no interval above zero)",
                perGenre.All(p => p.Delta.Low <= 0), string.Join("; ", perGenre.Select(p => $"{p.g}: Δ {D(p.Delta)}"))));
        }
        else goals.Add(("the three-teacher student beats the best single-teacher student overall and is no worse on any genre", false, NotMeasured("single-teacher student (single-GENRE-METHOD) for every genre of one method")));
        return goals;
    }

    private static string NotMeasured(string students) => $"not measured: this run has no {students}";

    public IEnumerable<string> Verdicts() => Goals().Select(g => $"{(g.Met ? "MET" : "NOT MET")}: {g.Goal}: {g.Figures}");

    public void Write(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.WriteAllText(path, Markdown());
    }

    public string Markdown()
    {
        var md = new StringBuilder();
        void Line(string s = "") => md.AppendLine(s);
        var models = results.Teachers.Concat(results.Students).ToList();
        var reusedCount = models.Count(m => m.Reused);
        var reused = reusedCount > 0;
        var origin = reusedCount == models.Count ? " (every model trained by an earlier run, rescored)"
            : string.Create(Inv, $" ({reusedCount} of {models.Count} models trained by an earlier run, the others now)");
        var splits = results.Splits;
        Line("# Experiment: the tokenizer-swap control");
        Line();
        Line(string.Create(Inv, $"Generated by `{results.Command ?? "mt experiment --suite twins"}` in {results.Elapsed.TotalMinutes:F1} min{(reused ? origin : "")} on {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores. Recipes: `recipes/experiments/twins/`."));
        Line();
        Line($"Data: Brown {string.Join(", ", splits.Select(s => $"{s.Genre} ({s.Train.Count} train, {s.Validation.Count} validation, {s.Test.Count} test documents)"))}; test documents are the last of each genre, validation the ones before them, and no model saw either in training.");
        Line($"Teacher twins: per genre two teachers identical in architecture (3 layers, hidden 96, tied embeddings), data (their genre's training split), steps ({results.Teachers[0].Steps} of 8 x 64 tokens) and seed; one has the student's tokenizer (Mistral), the other a foreign one (Llama 3 for press and learned, Qwen3 for fiction). `GENRE{TwinsFigures.SeedTwinSuffix}`, where present: the same-tokenizer twin trained again from another seed, nothing else changed.");
        Line(string.Create(Inv, $"Students: Mistral tokenizer, 2 layers, hidden 64, {results.Students[0].Steps} steps of 8 x 64 tokens of the three genres mixed, seeds 1 to {results.Seeds} (fewer where the table says so; a student with fewer seeds is paired with each seed of the other side), all teachers at fixed equal weights (but for the `-min_ce` and `-avg_ce` students); CE and distillation at α 0.5 (α·CE + (1−α)·distillation) except for ALM. `same-fused`: the three same-tokenizer twins through the fused path (forward KL on their averaged top-1024). `foreign-*`: the three foreign twins, through first_token projection of their top-1024 with forward KL, ULD (on their top-64), ALM (τ {results.Chosen.Temperature}, γ {results.Chosen.Gamma}, debiased, CE and ALM by {results.Chosen.Weighing}, chosen on validation), or exact projection (student tokens with the teacher token's bytes) with forward KL, the tail spread over the student's other tokens (`exact`) or lumped, one outcome compared with the student's whole mass outside the support (`exact_lump`). `foreign-first_token-min_ce`, `-avg_ce`: first_token with each sequence taught by the teacher of lowest cross-entropy on its gold tokens (FuseLLM's MinCE), or by all weighed by exp(−CE/0.25) (AvgCE). `single-GENRE-METHOD`: one foreign twin with ALM, first_token or exact_lump. `same-fused-lump`: `same-fused` with the tail lumped. `same-fused-foreign_positions`: `same-fused` with each twin distilling only where its foreign twin is aligned. `same-alm`: the three same-tokenizer twins with ALM at the same settings, which separates what ALM loses as a method from what the tokenizer swap costs it. `-rkl`, `-jsd`, `-tv`: reverse KL (KL(student ‖ target)), the Jensen-Shannon divergence at β 0.5 or total variation instead of forward KL, for the foreign twins through first_token and, as their control, for the same-tokenizer twins through the fused path. `{TwinsFigures.SameSeedTwins}`: `same-fused` taught by the seed copies of the same-tokenizer twins."));
        Line(string.Create(Inv, $"Statistics: Δ is a − b in bits per byte (negative: a is better). Intervals are 95% percentile intervals of a paired bootstrap ({PairedBootstrap.DefaultResamples} resamples) that draws seeds and test documents with replacement, both models on the same draws. Transfer efficiency = (foreign twins' Δ over hard labels) / (same-tokenizer twins' Δ), a ratio of means, numerator and denominator resampled together."));
        Line();
        Line("## Goals");
        Line();
        Line("| goal | verdict | figures |");
        Line("|---|---|---|");
        foreach (var (goal, met, figures) in Goals()) Line($"| {goal} | {Verdict(met)} | {figures} |");
        Line();
        Line("## Teacher twins");
        Line();
        Line("| genre | teacher | test bits/byte on its genre | top-64 mass on its genre | Δ vs hard-label student on its genre | Δ vs the same-tokenizer twin (twin gap) |");
        Line("|---|---|---|---|---|---|");
        foreach (var g in _f.Genres)
        {
            var (same, foreign) = _f.Twins(g);
            foreach (var t in new[] { same, foreign, _f.SeedTwin(g) }.OfType<string>())
                Line(string.Create(Inv, $"| {g} | {t} | {_f.Mean(t, g):F4} | {results.TopMass[t]:F3} | {D(_f.Delta(t, TwinsFigures.HardLabel, g))} | {(t == same ? "" : D(_f.Delta(t, same, g)))} |"));
        }
        if (results.Targets is { } targets)
        {
            Line();
            Line("## Distillation targets against the student's own predictions");
            Line();
            Line(string.Create(Inv, $"Bits per aligned student token on the genre's first {TwinsScorer.TargetLines} test lines: the gold next student token under each teacher's target as training builds it (its top-k projected by first_token, the rest spread evenly over the other student tokens), and under the hard-label student (seed 1) at the same positions. A target that predicts the gold worse than the student has little to teach it."));
            Line();
            var ks = targets.Values.First().Select(t => t.TopK).ToList();
            Line("| genre | teacher | aligned positions | " + string.Join(" | ", ks.Select(k => $"target at top-{k}")) + " | hard-label student |");
            Line("|---|---|---|" + string.Concat(ks.Select(_ => "---|")) + "---|");
            foreach (var g in _f.Genres)
            {
                var (same, foreign) = _f.Twins(g);
                foreach (var t in new[] { same, foreign, _f.SeedTwin(g) }.OfType<string>())
                {
                    var row = targets[t];
                    Line(string.Create(Inv, $"| {g} | {t} | {row[0].Quality.Positions} | {string.Join(" | ", row.Select(r => r.Quality.TargetBitsPerToken.ToString("F3", Inv)))} | {row[0].Quality.StudentBitsPerToken:F3} |"));
                }
            }
        }
        if (results.Agreement is { } agreement)
        {
            Line();
            Line("## The twins' targets compared");
            Line();
            Line(string.Create(Inv, $"On the same lines, at the student positions aligned to the other teacher: the same-tokenizer twin's and the other's full next-token distributions (no top-k; a foreign twin's carried into the student vocabulary by first_token) and the hard-label student's (seed 1). The other is the foreign twin, or the same-tokenizer twin trained from another seed where the run has one (`*{TwinsFigures.SeedTwinSuffix}`): how far two teachers differ with nothing foreign between them. Per position, in bits: the gold student token's −log₂ probability (over the positions where the other's target gives it some mass, counted as \"gold reached\"), the entropy (of a foreign twin's projected mass, which lacks what falls on ids outside the student vocabulary), the total variation (TV) and the Jensen-Shannon divergence (JSD, β ½) between the two teachers, and the JSD of each from the student. \"Event agreed\" is the share of positions where the projection sends the other tokenizer's own next token to the student's gold token. If the twins' JSD is near their JSD from the student, the foreign twin is another teacher at those positions, not the same one seen through a projection."));
            Line();
            Line("| genre | other teacher | positions | event agreed | gold reached | gold: same twin | gold: other | gold: student | entropy: same twin | entropy: other | TV(same, other) | JSD(same, other) | JSD(same, student) | JSD(other, student) |");
            Line("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
            foreach (var g in _f.Genres)
                foreach (var other in new[] { _f.Twins(g).Foreign, _f.SeedTwin(g) }.OfType<string>().Where(agreement.ContainsKey))
                {
                    var a = agreement[other];
                    Line(string.Create(Inv, $"| {g} | {other} | {a.Positions} | {(double)a.GoldMapped / a.Positions:P1} | {a.GoldReached} | {a.GoldMean.Same:F3} | {a.GoldMean.Foreign:F3} | {a.GoldMean.Student:F3} | {a.Mean(a.Entropy.Same):F3} | {a.Mean(a.Entropy.Foreign):F3} | {a.Mean(a.TotalVariation):F3} | {a.Mean(a.JensenShannon.Twins):F3} | {a.Mean(a.JensenShannon.SameStudent):F3} | {a.Mean(a.JensenShannon.ForeignStudent):F3} |"));
                }
        }
        Line();
        Line("## ALM's settings, chosen on validation");
        Line();
        if (results.Tuning.Count == 0)
            Line(string.Create(Inv, $"Not searched{(results.Only is null ? "" : $": {TwinsFigures.ForeignAlm}, the student it is searched on, is not among this run's students")}; ALM students train at τ {results.Chosen.Temperature}, γ {results.Chosen.Gamma}, {results.Chosen.Weighing}."));
        else
        {
            Line($"The three-teacher ALM student, seed 1, trained at each point and scored on the validation documents of all genres (bits over bytes):");
            Line();
            Line("| τ | γ | CE and ALM weighed by | validation bits/byte |");
            Line("|---|---|---|---|");
            foreach (var (c, v) in results.Tuning) Line(string.Create(Inv, $"| {c.Temperature} | {c.Gamma} | {c.Weighing} | {v:F4}{(c == results.Chosen ? " (chosen)" : "")} |"));
        }
        Line();
        StudentTables(Line);
        Line();
        Line("## Training runs");
        Line();
        Line("| model | seed | lineage run | final training loss |");
        Line("|---|---|---|---|");
        foreach (var m in results.Teachers.Concat(results.Students))
            Line(string.Create(Inv, $"| {m.Name} | {(m.Seed == 0 ? "" : m.Seed)} | {(m.RunId is { } id ? id.ToString(Inv) : "unknown")}{(m.Reused ? " (reused)" : "")} | {m.FinalLoss:F3} |"));
        return md.ToString();
    }

    private void StudentTables(Action<string> Line)
    {
        Line("## Students on test text");
        Line("");
        Line($"Mean over seeds and documents; Δ against the hard-label student with its paired bootstrap interval.");
        Line("");
        Line($"| student | seeds | {string.Join(" | ", _f.Genres)} | all | Δ vs hard-label (all) | Δ vs hard-label (its one teacher's genre) |");
        Line("|---|---|" + string.Concat(_f.Genres.Select(_ => "---|")) + "---|---|---|");
        foreach (var name in results.Students.Select(s => s.Name).Distinct())
        {
            var own = _f.Genres.FirstOrDefault(g => name.StartsWith(TwinsFigures.Single(g, ""), StringComparison.Ordinal));
            var versus = name == TwinsFigures.HardLabel ? "" : D(_f.Delta(name, TwinsFigures.HardLabel, null));
            var ownVersus = own is null || name == TwinsFigures.HardLabel ? "" : $"{own}: {D(_f.Delta(name, TwinsFigures.HardLabel, own))}";
            Line(string.Create(Inv, $"| {name} | {results.Scores[name].Length} | {string.Join(" | ", _f.Genres.Select(g => _f.Mean(name, g).ToString("F4", Inv)))} | {_f.Mean(name, null):F4} | {versus} | {ownVersus} |"));
        }
        Line("");
        Line("## Transfer efficiency");
        Line("");
        Line("The swap changes only the teachers' tokenizer. Δ against hard labels over all test documents and, per genre, on that genre's documents.");
        Line("");
        Line($"| method | foreign twins' Δ | same-tokenizer twins' Δ | transfer efficiency | {string.Join(" | ", _f.Genres.Select(g => $"efficiency on {g}"))} |");
        Line("|---|---|---|---|" + string.Concat(_f.Genres.Select(_ => "---|")));
        foreach (var m in _f.MethodsRun)
            Line($"| {m} | {D(_f.ForeignGain(m))} | {D(_f.SameGain())} | {R(_f.TransferEfficiency(m))} | {string.Join(" | ", _f.Genres.Select(g => R(_f.TransferEfficiency(m, g))))} |");
        var variants = _f.PairedVariants.ToList();
        if (variants.Count > 0)
        {
            Section(Line, "The swap under other settings",
                $"Pairs of students that differ from `{TwinsFigures.ForeignFirstToken}` and `{TwinsFigures.SameTokenizer}` by the same setting (the suffix): each side's Δ against hard labels and against the same twins without the setting, and the foreign twins' gain over the same twins' gain under that setting (their efficiency against `{TwinsFigures.SameTokenizer}` is in the table above, as method first_token-SETTING).");
            Line($"| setting | foreign twins' Δ | − {TwinsFigures.ForeignFirstToken} | same-tokenizer twins' Δ | − {TwinsFigures.SameTokenizer} | transfer efficiency under the setting |");
            Line("|---|---|---|---|---|---|");
            foreach (var v in variants)
            {
                var (foreign, same) = ($"{TwinsFigures.ForeignFirstToken}-{v}", $"{TwinsFigures.SameTokenizer}-{v}");
                Line($"| {v} | {D(_f.Delta(foreign, TwinsFigures.HardLabel, null))} | {D(_f.Delta(foreign, TwinsFigures.ForeignFirstToken, null))} | {D(_f.Delta(same, TwinsFigures.HardLabel, null))} | {D(_f.Delta(same, TwinsFigures.SameTokenizer, null))} | {R(_f.GainRatio(foreign, same))} |");
            }
        }
        var foreignSettings = _f.ForeignSettings.ToList();
        if (foreignSettings.Count > 0)
        {
            Section(Line, "Settings on the foreign side alone",
                "Students taught by the foreign twins that add one setting (the last part of the name) to another such student, everything else equal, and have no same-tokenizer counterpart: Δ with the setting against without it.");
            Comparisons(Line, foreignSettings.Select(p => ($"{p.With} − {p.Without}", p.With, p.Without)).ToList());
        }
        if (results.Scores.ContainsKey(TwinsFigures.SamePositions) && results.Scores.ContainsKey(TwinsFigures.ForeignFirstToken))
        {
            Section(Line, "Coverage or distributions",
                "The same-tokenizer twins, each restricted to the student positions its foreign twin is aligned to (`teachers[].positions_of`): what the foreign twins' coverage alone costs, and what their projected distributions cost at those same positions.");
            Comparisons(Line, [($"{TwinsFigures.SamePositions} − {TwinsFigures.SameTokenizer}", TwinsFigures.SamePositions, TwinsFigures.SameTokenizer),
                ($"{TwinsFigures.SamePositions} − {TwinsFigures.HardLabel}", TwinsFigures.SamePositions, TwinsFigures.HardLabel),
                ($"{TwinsFigures.ForeignFirstToken} − {TwinsFigures.SamePositions}", TwinsFigures.ForeignFirstToken, TwinsFigures.SamePositions)]);
        }
        if (results.Scores.ContainsKey(TwinsFigures.SameSeedTwins))
        {
            Section(Line, "Another seed, the same tokenizer",
                $"`{TwinsFigures.SameSeedTwins}`: `{TwinsFigures.SameTokenizer}` taught by the same-tokenizer twins' copies trained from another seed (`*{TwinsFigures.SeedTwinSuffix}`, nothing else changed). Its gain over `{TwinsFigures.SameTokenizer}`'s is what swapping the teachers for equally made ones transfers with nothing foreign between them: the yardstick for the transfer efficiencies above.");
            Comparisons(Line, [($"{TwinsFigures.SameSeedTwins} − {TwinsFigures.HardLabel}", TwinsFigures.SameSeedTwins, TwinsFigures.HardLabel),
                ($"{TwinsFigures.SameSeedTwins} − {TwinsFigures.SameTokenizer}", TwinsFigures.SameSeedTwins, TwinsFigures.SameTokenizer)]);
            Line($"| gain ratio: ({TwinsFigures.SameSeedTwins} − hard-label) / ({TwinsFigures.SameTokenizer} − hard-label) | {R(_f.GainRatio(TwinsFigures.SameSeedTwins, TwinsFigures.SameTokenizer))} |" + string.Concat(_f.Genres.Select(_ => " |")));
        }
        if (!results.Scores.ContainsKey(TwinsFigures.SameAlm) || !results.Scores.ContainsKey(TwinsFigures.ForeignAlm)) return;
        Section(Line, "ALM as a method, with the tokenizer held fixed",
            "The same-tokenizer twins taught through ALM instead of the fused path: what ALM carries when nothing is foreign, and what the swap then costs it.");
        Comparisons(Line, [("same-alm − hard-label", TwinsFigures.SameAlm, TwinsFigures.HardLabel),
            ("same-alm − same-fused", TwinsFigures.SameAlm, TwinsFigures.SameTokenizer), ("foreign-alm − same-alm", TwinsFigures.ForeignAlm, TwinsFigures.SameAlm)]);
        Line($"| ALM's own efficiency: (foreign-alm − hard-label) / (same-alm − hard-label) | {R(_f.GainRatio(TwinsFigures.ForeignAlm, TwinsFigures.SameAlm))} |" + string.Concat(_f.Genres.Select(_ => " |")));
    }

    private static void Section(Action<string> Line, string title, string text)
    {
        Line("");
        Line($"## {title}");
        Line("");
        Line(text);
        Line("");
    }

    /// <summary>A table of Δ = a − b over all test documents and per genre, one row per comparison.</summary>
    private void Comparisons(Action<string> Line, IReadOnlyList<(string Label, string A, string B)> rows)
    {
        Line("| comparison | all | " + string.Join(" | ", _f.Genres) + " |");
        Line("|---|---|" + string.Concat(_f.Genres.Select(_ => "---|")));
        foreach (var (label, a, b) in rows)
            Line($"| {label} | {D(_f.Delta(a, b, null))} | {string.Join(" | ", _f.Genres.Select(g => D(_f.Delta(a, b, g))))} |");
    }
}
