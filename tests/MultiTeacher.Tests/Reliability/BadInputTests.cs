using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MultiTeacher.Lineage;
using MultiTeacher.Tests.Integration;
using MultiTeacher.Tests.Lineage;
using Xunit.Abstractions;

namespace MultiTeacher.Tests.Reliability;

/// <summary>
/// Every bad input that was tried against the released CLI, through the real `mt`: special files,
/// invalid UTF-8, hostile tokenizers and configs, lineage look-ups, control characters in names,
/// a taken port, and the cases that already held. Each is refused with exit 2 and one line naming
/// the file and the problem, and nothing is recorded as a run.
/// </summary>
[Trait("Category", TestCategory.Database)]
[Collection("postgres")]
public sealed class BadInputTests(PostgresFixture postgres, ITestOutputHelper output) : TempDirectoryTest
{
    private sealed record Case(string Category, string Name, Func<HostileOutcome> Run, Action<HostileOutcome> Check);

    private string Tokenizer(string name, Action<JsonObject>? mutate = null)
    {
        var json = HostileFiles.Tokenizer();
        mutate?.Invoke(json);
        return HostileFiles.TokenizerDir(TempDir, name, json.ToJsonString());
    }

    private string Recipe(string name, string data)
    {
        var runs = new TinyRuns(TempDir);
        var config = runs.WriteConfig("student-" + name, "mistral", 32000);
        return runs.WriteRecipe(name, $$"""
            data: { train: '{{data}}', seq_len: 16 }
            student: { config: {{config}}, tokenizer: {{TestAssets.TokenizerDir("mistral-7b-v0.1")}} }
            train: { steps: 1, batch_size: 1 }
            """);
    }

    private static void Refused(HostileOutcome o, params string[] mentions) => Hostile.AssertRefused(o, mentions);

    private IEnumerable<Case> Cases(string db)
    {
        // Special files where a file of user input is expected.
        var fifoTok = Tokenizer("fifo-tok");
        File.Delete(Path.Combine(fifoTok, "tokenizer.json"));
        HostileFiles.Fifo(Path.Combine(fifoTok, "tokenizer.json"));
        yield return new("files", "tokenizer.json is a FIFO", () => Hostile.Cli("hi\n", "tokenize", "--tokenizer", fifoTok),
            o => Refused(o, "tokenizer.json", "not a regular file"));
        var zeroTok = Tokenizer("zero-tok");
        File.Delete(Path.Combine(zeroTok, "tokenizer.json"));
        HostileFiles.Link(Path.Combine(zeroTok, "tokenizer.json"), "/dev/zero");
        yield return new("files", "tokenizer.json is /dev/zero", () => Hostile.Cli("hi\n", "tokenize", "--tokenizer", zeroTok),
            o => Refused(o, "tokenizer.json", "not a regular file"));
        var loopTok = Tokenizer("loop-tok");
        File.Delete(Path.Combine(loopTok, "tokenizer.json"));
        HostileFiles.Link(Path.Combine(loopTok, "tokenizer.json"), Path.Combine(loopTok, "tokenizer.json"));
        yield return new("files", "tokenizer.json is a symbolic link loop", () => Hostile.Cli("hi\n", "tokenize", "--tokenizer", loopTok),
            o => Refused(o, "tokenizer.json", "symbolic link loop"));
        var fifoData = HostileFiles.Fifo(Path.Combine(TempDir, "data.fifo"));
        yield return new("files", "training data is a FIFO", () => Hostile.Cli("", "run", Recipe("fifo", fifoData), "--database", db),
            o => { Refused(o, "data.fifo", "not a regular file"); NoRuns(db); });
        var zeroData = HostileFiles.Link(Path.Combine(TempDir, "zero.txt"), "/dev/zero");
        yield return new("files", "training data is /dev/zero", () => Hostile.Cli("", "run", Recipe("zero", zeroData), "--database", db),
            o => { Refused(o, "zero.txt", "not a regular file"); NoRuns(db); });
        var loopData = HostileFiles.Link(Path.Combine(TempDir, "loop.txt"), Path.Combine(TempDir, "loop.txt"));
        yield return new("files", "training data is a symbolic link loop", () => Hostile.Cli("", "run", Recipe("loop", loopData), "--database", db),
            o => { Assert.Equal(2, o.ExitCode); Assert.Contains("loop.txt", o.Error); Assert.False(HostileOutcome.LooksLikeTrace(o.Error)); NoRuns(db); });
        var fifoConfig = Path.Combine(TempDir, "fifo-model");
        Directory.CreateDirectory(fifoConfig);
        HostileFiles.Fifo(Path.Combine(fifoConfig, "config.json"));
        yield return new("files", "config.json is a FIFO", () => Hostile.Cli("", "model", "inspect", fifoConfig),
            o => Refused(o, "config.json", "not a regular file"));

        // Invalid UTF-8: refused with the offset of the first bad byte, never turned into U+FFFD.
        var latin1 = Path.Combine(TempDir, "latin1.txt");
        File.WriteAllBytes(latin1, [.. "Caf"u8, 0xE9, .. " au lait, and more text to train on.\n"u8]);
        yield return new("encoding", "training data in Latin-1", () => Hostile.Cli("", "run", Recipe("latin1", latin1), "--database", db),
            o => { Refused(o, "latin1.txt", "invalid UTF-8 at byte 3 (0xE9)"); NoRuns(db); });
        yield return new("encoding", "tokenize stdin with an invalid byte on line 2",
            () => Hostile.CliBytes([.. "ok\nab"u8, 0xFF, .. "c\n"u8], "tokenize", "--tokenizer", Tokenizer("utf8-tok")),
            o => { Refused(o, "stdin", "invalid UTF-8 at byte 5 (0xFF)"); Assert.Single(o.Out.TrimEnd('\n').Split('\n')); });
        yield return new("encoding", "tokenize stdin with a truncated sequence at the end",
            () => Hostile.CliBytes([.. "naïve "u8, 0xF0, 0x9F], "tokenize", "--tokenizer", Tokenizer("utf8-tok2")),
            o => Refused(o, "stdin", "invalid UTF-8 at byte 7"));

        // Hostile tokenizer files.
        foreach (var (name, id) in new[] { ("negative", "-1"), ("int-max", "2147483647"), ("fraction", "3.5"), ("huge", "1e30") })
        {
            var dir = Tokenizer($"vocab-{name}", j => j["model"]!["vocab"]!["!"] = JsonNode.Parse(id));
            yield return new("tokenizer", $"vocab id {id}", () => Hostile.Cli("hi\n", "tokenize", "--tokenizer", dir),
                o => Refused(o, "tokenizer.json", "vocab entry '!'", "expected an integer from 0 to"));
        }
        var nullContent = Tokenizer("added-null", j => j["added_tokens"]![0]!["content"] = null);
        yield return new("tokenizer", "added_tokens content null", () => Hostile.Cli("hi\n", "tokenize", "--tokenizer", nullContent),
            o => Refused(o, "tokenizer.json", "added_tokens content is null"));
        var addedId = Tokenizer("added-id", j => j["added_tokens"]![0]!["id"] = -7);
        yield return new("tokenizer", "added_tokens id -7", () => Hostile.Cli("hi\n", "tokenize", "--tokenizer", addedId),
            o => Refused(o, "tokenizer.json", "added token '<|end|>' has id -7"));
        var truncated = HostileFiles.TokenizerDir(TempDir, "truncated", HostileFiles.Tokenizer().ToJsonString()[..500]);
        yield return new("held", "truncated tokenizer.json", () => Hostile.Cli("hi\n", "tokenize", "--tokenizer", truncated),
            o => Refused(o, "tokenizer.json", "not valid JSON"));

        // config.json sizes and checkpoints that disagree with them.
        var runs = new TinyRuns(TempDir);
        var model = runs.WriteTeacher("model", "mistral", "mistral-7b-v0.1", 32000, seed: 5);
        var weights = ParametersInSafetensors(Path.Combine(model, "model.safetensors"));
        var hugeVocab = CopyWithConfig(model, "huge-vocab", c => c["vocab_size"] = 2_000_000_000);
        yield return new("config", "vocab_size 2000000000", () => Hostile.Cli("", "model", "inspect", hugeVocab),
            o => Refused(o, "config.json", "vocab_size 2000000000 is outside"));
        var badEps = CopyWithConfig(model, "bad-eps", c => c["rms_norm_eps"] = -1);
        yield return new("config", "rms_norm_eps -1", () => Hostile.Cli("", "model", "inspect", badEps),
            o => Refused(o, "config.json", "rms_norm_eps"));
        var wider = CopyWithConfig(model, "disagrees", c => c["intermediate_size"] = 96);
        yield return new("config", "model inspect: config.json disagrees with the weights", () => Hostile.Cli("", "model", "inspect", wider),
            o =>
            {
                Refused(o, "config.json disagrees with the weights", "mlp.gate_proj.weight");
                Assert.Contains($"{weights:N0} (from the weights)", o.Out);
            });
        yield return new("config", "model inspect: weights and config agree", () => Hostile.Cli("", "model", "inspect", model),
            o => { Assert.Equal(0, o.ExitCode); Assert.Contains($"{weights:N0} (from the weights)", o.Out); });
        yield return new("held", "eval with mismatched checkpoint", () => Hostile.Cli("", "eval", "--model", wider, "--data", latin1),
            o => Refused(o, "does not match"));
        var traversal = Path.Combine(TempDir, "traversal");
        Directory.CreateDirectory(traversal);
        File.Copy(Path.Combine(model, "config.json"), Path.Combine(traversal, "config.json"));
        File.WriteAllText(Path.Combine(traversal, "model.safetensors.index.json"), """{ "weight_map": { "lm_head.weight": "../../etc/passwd" } }""");
        yield return new("held", "shard index with path traversal", () => Hostile.Cli("", "model", "inspect", traversal),
            o => Refused(o, "not a plain file name"));

        // Lineage look-ups and names with control characters.
        var store = new LineageStore(db);
        store.RecordArtifact("dataset", latin1);
        var evil = "evil\u001b]0;owned\u0007\u001b[2J\u009bname";
        var runId = store.StartRun(store.RecordRecipe(evil, "name: x"), 1, new Dictionary<string, string>(), status: MultiTeacher.Runs.RunStatus.Queued);
        yield return new("lineage", "lineage with an empty argument", () => Hostile.Cli("", "lineage", "", "--database", db),
            o => Refused(o, "empty argument"));
        yield return new("lineage", "lineage % (a LIKE wildcard)", () => Hostile.Cli("", "lineage", "%", "--database", db),
            o => Refused(o, "no artifact matches '%'"));
        yield return new("lineage", "lineage _ (a LIKE wildcard)", () => Hostile.Cli("", "lineage", "_", "--database", db),
            o => Refused(o, "no artifact matches '_'"));
        yield return new("held", "show with an SQL-looking run id", () => Hostile.Cli("", "show", "1; DROP TABLE lineage.runs", "--database", db),
            o => { Assert.Equal(2, o.ExitCode); Assert.NotNull(store.Run(runId)); });
        yield return new("terminal", "mt runs with control characters in a name", () => Hostile.Cli("", "runs", "--database", db),
            o => { Assert.Equal(0, o.ExitCode); Assert.DoesNotContain('\u001b', o.Out); Assert.DoesNotContain('\u009b', o.Out); Assert.Contains("\\x1B]0;owned\\x07", o.Out); });
        yield return new("terminal", "mt show with control characters in a name", () => Hostile.Cli("", "show", runId.ToString(), "--database", db),
            o => { Assert.Equal(0, o.ExitCode); Assert.DoesNotContain('\u001b', o.Out); Assert.Contains("evil\\x1B]0;owned\\x07\\x1B[2J\\x9Bname", o.Out); });

        // A port that is already taken: its own process, since what the host logs to the console is the point.
        var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        yield return new("dashboard", "dashboard on a port in use", () =>
            {
                try { return Hostile.Process(null, null, "dashboard", "--urls", $"http://127.0.0.1:{port}", "--database", db, "--nice", "0"); }
                finally { taken.Stop(); }
            },
            o => Refused(o, $"127.0.0.1:{port}", "address already in use"));
    }

    [Fact]
    public void EveryBadInput_IsRefusedInOneLine_WithExit2_AndNothingRecorded()
    {
        var db = postgres.NewDatabase();
        Migrator.Apply(db);
        var tally = new HostileTally(output);
        foreach (var c in Cases(db).ToList())
        {
            var outcome = c.Run();
            try
            {
                c.Check(outcome);
                tally.Add(c.Category, c.Name, outcome);
            }
            catch (Exception e) when (e is Xunit.Sdk.XunitException)
            {
                tally.Add(c.Category, c.Name, outcome with { ExitCode = -2, Error = $"{outcome.Error.Trim()} [check failed: {e.Message.ReplaceLineEndings(" ")}]" });
            }
        }
        tally.Report();
    }

    private static void NoRuns(string db) => Assert.DoesNotContain(new LineageStore(db).Runs(), r => !r.Recipe.StartsWith("evil", StringComparison.Ordinal));

    private string CopyWithConfig(string model, string name, Action<JsonObject> change)
    {
        var dir = Path.Combine(TempDir, name);
        Directory.CreateDirectory(dir);
        foreach (var file in Directory.GetFiles(model)) File.Copy(file, Path.Combine(dir, Path.GetFileName(file)));
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!.AsObject();
        change(config);
        File.WriteAllText(Path.Combine(dir, "config.json"), config.ToJsonString());
        return dir;
    }

    /// <summary>Parameters counted straight from the safetensors header (8-byte length, JSON of shapes), independently of the product's reader.</summary>
    private static long ParametersInSafetensors(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var length = BitConverter.ToInt64(bytes, 0);
        using var header = JsonDocument.Parse(Encoding.UTF8.GetString(bytes, 8, (int)length));
        return header.RootElement.EnumerateObject().Where(p => p.Name != "__metadata__")
            .Sum(p => p.Value.GetProperty("shape").EnumerateArray().Aggregate(1L, (a, d) => a * d.GetInt64()));
    }
}
