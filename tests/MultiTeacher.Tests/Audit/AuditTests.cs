using System.Text.Json;
using MultiTeacher.Lineage;
using MultiTeacher.Tests.Cli;
using MultiTeacher.Tests.Integration;
using MultiTeacher.Tests.Lineage;
using static MultiTeacher.Tests.Jobs.JobHarness;

namespace MultiTeacher.Tests.Audit;

/// <summary>`mt audit` on tiny real runs: each verdict from the situation that must produce it.</summary>
[Trait("Category", TestCategory.Database)]
[Collection("postgres")]
public sealed class AuditTests(PostgresFixture postgres) : TempDirectoryTest
{
    /// <summary>A finished tiny run with one cached teacher and held-out text; returns the database, the run id and the runs folder.</summary>
    private (string Db, long Run, TinyRuns Runs) FinishedRun(int teacherSeed)
    {
        var db = postgres.NewDatabase();
        var runs = new TinyRuns(TempDir);
        runs.WriteData(trainDocuments: 1, trainChars: 2000);
        var teacher = runs.WriteTeacher("llama", "llama", "llama3", 128256, seed: teacherSeed);
        var config = runs.WriteConfig("student", "qwen2", 32000);
        var recipe = runs.WriteRecipe("audited", $"""
            seed: 3
            threads: 2
            deterministic: true
            data: {"{"} train: train.txt, eval: eval.txt, seq_len: 32 {"}"}
            teachers:
              - {"{"} name: llama, path: {teacher} {"}"}
            student: {"{"} config: {config}, tokenizer: {TestAssets.TokenizerDir("mistral-7b-v0.1")} {"}"}
            alignment: {"{"} top_k: 8 {"}"}
            train: {"{"} steps: 4, batch_size: 2 {"}"}
            eval: {"{"} max_bytes: 1500 {"}"}
            """);
        var (code, _, error) = CliRunner.Run("", "run", recipe, "--database", db);
        Assert.True(code == 0, error);
        return (db, new LineageStore(db).Runs().Single().Id, runs);
    }

    private static (int Code, JsonElement Report) Audit(string db, long run, params string[] extra)
    {
        var (code, output, error) = CliRunner.Run("", ["audit", run.ToString(), "--json", "--database", db, .. extra]);
        Assert.True(output.TrimStart().StartsWith('{'), output + error);
        return (code, JsonDocument.Parse(output).RootElement);
    }

    [Fact]
    public void AuditRightAfterTheRun_IsReproduced_AndTheReportIsStored()
    {
        var (db, run, _) = FinishedRun(teacherSeed: 101);
        var (code, report) = Audit(db, run);
        Assert.True(code == 0, report.ToString());
        Assert.Equal("reproduced", report.GetProperty("Verdict").GetString());
        Assert.True(report.GetProperty("Replay").GetProperty("Full").GetBoolean());
        Assert.Equal(report.GetProperty("Replay").GetProperty("StudentSha256Recorded").GetString(), report.GetProperty("Replay").GetProperty("StudentSha256Replayed").GetString());
        Assert.Equal(1L, Scalar(db, "SELECT count(*) FROM lineage.audits WHERE run_id = $1 AND verdict = 'reproduced'", run));
        var (textCode, text, _) = CliRunner.Run("", "audit", run.ToString(), "--steps", "2", "--database", db);
        Assert.Equal(0, textCode);
        Assert.Contains("verdict: reproduced (first 2 steps bit-identical)", text);
    }

    [Fact]
    public void OneFlippedByteInTheStudent_IsTampered_NamingTheFile()
    {
        var (db, run, runs) = FinishedRun(teacherSeed: 102);
        var weights = Path.Combine(runs.Output("audited"), "student", "model.safetensors");
        var bytes = File.ReadAllBytes(weights);
        bytes[^7] ^= 0x01;
        File.WriteAllBytes(weights, bytes);
        var (code, report) = Audit(db, run);
        Assert.Equal(5, code);
        Assert.Equal("tampered", report.GetProperty("Verdict").GetString());
        var finding = report.GetProperty("Integrity").EnumerateArray().Single(f => f.GetProperty("Problem").GetString() != "ok");
        Assert.Equal("student", finding.GetProperty("Role").GetString());
        Assert.Equal("model.safetensors (altered)", finding.GetProperty("Files")[0].GetString());
        Assert.Equal(JsonValueKind.Null, report.GetProperty("Replay").ValueKind);
    }

    [Fact]
    public void DeletedTeacherCache_IsRebuiltByTheReplay_AndTheRunStillReproduces()
    {
        var (db, run, _) = FinishedRun(teacherSeed: 103);
        var cache = new LineageStore(db).Artifacts(run).Single(a => a.Kind == "cache");
        File.Delete(cache.Path);
        var (code, report) = Audit(db, run);
        Assert.True(code == 0, report.ToString());
        Assert.Equal("reproduced", report.GetProperty("Verdict").GetString());
        Assert.True(File.Exists(cache.Path));
        Assert.Equal(cache.Sha256, MultiTeacher.Recipes.ContentHash.OfFile(cache.Path));
    }

    [Fact]
    public void ReplayWithAnotherThreadCount_ReportsTheDifferenceAndAVerdict()
    {
        var (db, run, _) = FinishedRun(teacherSeed: 104);
        var (code, report) = Audit(db, run, "--threads", "1");
        var env = report.GetProperty("Environment").EnumerateArray().Single(d => d.GetProperty("Key").GetString() == "cpu_threads");
        Assert.Equal(("2", "1"), (env.GetProperty("Recorded").GetString(), env.GetProperty("Current").GetString()));
        Assert.Equal(1, report.GetProperty("Replay").GetProperty("Threads").GetInt32());
        var verdict = report.GetProperty("Verdict").GetString();
        Assert.Contains(verdict, new[] { "reproduced", "within-tolerance", "diverged" });
        Assert.Equal(verdict switch { "reproduced" => 0, "within-tolerance" => 3, _ => 4 }, code);
    }

    [Fact]
    public void RunWhoseInputIsGone_IsIncomplete_WithoutAReplay()
    {
        var (db, run, _) = FinishedRun(teacherSeed: 105);
        File.Delete(Path.Combine(TempDir, "eval.txt"));
        var (code, report) = Audit(db, run);
        Assert.Equal(6, code);
        Assert.Equal("incomplete", report.GetProperty("Verdict").GetString());
        Assert.Contains("data.eval", report.GetProperty("Reason").GetString());
        Assert.Equal(JsonValueKind.Null, report.GetProperty("Replay").ValueKind);
    }
}
