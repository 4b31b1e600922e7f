using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using MultiTeacher.Alignment;
using MultiTeacher.Settings;
using MultiTeacher.Tokenization;
using Spectre.Console;

namespace MultiTeacher.Cli.Commands;

/// <summary>`mt align`: how a teacher vocabulary projects onto a student's, and sequence coverage on a text.</summary>
public static class AlignCommand
{
    public static Command Create(CliIO io)
    {
        var teacher = new Option<string>("--teacher") { Description = "Teacher tokenizer directory", Required = true };
        var student = new Option<string>("--student") { Description = "Student tokenizer directory", Required = true };
        var method = new Option<string>("--method") { Description = "first_token (default), exact or min_edit", DefaultValueFactory = _ => "first_token" };
        var text = new Option<string?>("--text") { Description = "UTF-8 text file (one sequence per line) for coverage and exact-match mass" };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON" };

        var command = new Command("align", "Project a teacher vocabulary onto a student vocabulary and report coverage.")
            { teacher, student, method, text, json };
        command.SetAction(r =>
        {
            var m = ParseMethod(r.GetValue(method)!);
            var lines = r.GetValue(text) is { } path ? AlignmentReport.ReadUtf8Lines(path) : [];
            var t = HfTokenizer.FromDirectory(r.GetValue(teacher)!);
            var s = HfTokenizer.FromDirectory(r.GetValue(student)!);
            var watch = Stopwatch.StartNew();
            var (projection, built) = ProjectionCache.Default().GetOrBuild(t, s, m);
            var seconds = watch.Elapsed.TotalSeconds;
            var report = AlignmentReport.Compute(t, s, projection, lines, Path.GetFileName(t.DirectoryPath), Path.GetFileName(s.DirectoryPath));
            if (r.GetValue(json)) io.Out.WriteLine(JsonSerializer.Serialize(new { report, coverage = report.Coverage, exactMass = report.ExactMass, projectionSeconds = seconds, projectionBuilt = built }));
            else Print(io, report, seconds, built, lines.Length > 0);
            return CliApp.Ok;
        });
        return command;
    }

    private static ProjectionMethod ParseMethod(string name) =>
        SettingNames.TryParse(typeof(ProjectionMethod), name, out var method) ? (ProjectionMethod)method
            : throw new BadInputException($"unknown projection method '{name}' (expected {string.Join(", ", SettingNames.All<ProjectionMethod>())})");

    private static void Print(CliIO io, AlignmentReport r, double seconds, bool built, bool withText)
    {
        var console = io.Tables();
        var table = new Table().Title($"{r.Teacher} → {r.Student} ({r.Method})").AddColumns("measure", "value");
        table.AddRow("teacher / student vocabulary", $"{r.TeacherVocab:N0} / {r.StudentVocab:N0}");
        table.AddRow("teacher tokens with an exact student match", $"{r.ExactTokens:N0} ({100.0 * r.ExactTokens / r.TeacherVocab:F1}%)");
        table.AddRow("teacher tokens sent to the tail", $"{r.TailTokens:N0}");
        table.AddRow("projection", $"{(built ? "built" : "from cache")} in {seconds:F2} s");
        if (withText)
        {
            table.AddRow("sequence coverage (aligned student positions)", $"{100 * r.Coverage:F2}% of {r.Positions:N0}");
            table.AddRow("teacher next-token mass on exact matches", $"{100 * r.ExactMass:F2}% of {r.TeacherTokens:N0} tokens");
            foreach (var (reason, count) in r.Unaligned.Where(kv => kv.Value > 0))
                table.AddRow($"  unaligned: {reason}", $"{count:N0}");
        }
        console.Write(table);
    }
}
