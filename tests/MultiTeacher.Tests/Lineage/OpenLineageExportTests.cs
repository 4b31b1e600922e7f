using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using MultiTeacher.Lineage;
using MultiTeacher.Tests.Cli;
using MultiTeacher.Tests.Integration;

namespace MultiTeacher.Tests.Lineage;

/// <summary>OpenLineage events of a real run with a cached teacher: POSTed to a local Marquez-style listener, and the cache on the stage that made it.</summary>
[Trait("Category", TestCategory.Database)]
[Collection("postgres")]
public sealed class OpenLineageExportTests(PostgresFixture postgres) : TempDirectoryTest
{
    /// <summary>A loopback HTTP listener that records every request and answers with the status <c>answer(n)</c> gives the n-th (1-based).</summary>
    private sealed class Listener : IDisposable
    {
        private readonly HttpListener _http = new();
        private readonly Task _loop;
        public ConcurrentQueue<(string Method, string Path, string? ContentType, string Body)> Requests { get; } = new();
        public string Url { get; }

        public Listener(Func<int, int> answer)
        {
            using (var probe = new TcpListener(IPAddress.Loopback, 0))
            {
                probe.Start();
                Url = $"http://127.0.0.1:{((IPEndPoint)probe.LocalEndpoint).Port}";
            }
            _http.Prefixes.Add(Url + "/");
            _http.Start();
            _loop = Task.Run(async () =>
            {
                for (var n = 1; ; n++)
                {
                    HttpListenerContext context;
                    try { context = await _http.GetContextAsync(); }
                    catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException) { return; }
                    using (var reader = new StreamReader(context.Request.InputStream))
                        Requests.Enqueue((context.Request.HttpMethod, context.Request.Url!.AbsolutePath, context.Request.ContentType, await reader.ReadToEndAsync()));
                    context.Response.StatusCode = answer(n);
                    context.Response.Close();
                }
            });
        }

        public void Dispose()
        {
            _http.Stop();
            _http.Close();
            _loop.Wait(TimeSpan.FromSeconds(10));
        }
    }

    private (string Db, string Id) RunWithCachedTeacher()
    {
        var db = postgres.NewDatabase();
        var runs = new TinyRuns(TempDir);
        runs.WriteData(trainDocuments: 1, trainChars: 1500);
        var teacher = runs.WriteTeacher("llama", "llama", "llama3", 128256, seed: 7);
        var config = runs.WriteConfig("student", "qwen2", 32000);
        var recipe = runs.WriteRecipe("ol", $"""
            seed: 2
            data: {"{"} train: train.txt, seq_len: 24 {"}"}
            teachers:
              - {"{"} name: llama, path: {teacher} {"}"}
            student: {"{"} config: {config}, tokenizer: {TestAssets.TokenizerDir("mistral-7b-v0.1")} {"}"}
            alignment: {"{"} top_k: 4 {"}"}
            train: {"{"} steps: 2, batch_size: 2 {"}"}
            """);
        var (code, _, error) = CliRunner.Run("", "run", recipe, "--database", db);
        Assert.True(code == 0, error);
        return (db, new LineageStore(db).Runs().Single().Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    private static List<JsonNode> Lines(string output) => [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!)];

    [Fact]
    public void Url_PostsEveryEventInOrder_ToTheLineageEndpoint_AndARefusalFailsWithOneLine()
    {
        var (db, id) = RunWithCachedTeacher();
        var (printCode, printed, printError) = CliRunner.Run("", "lineage", id, "--openlineage", "--database", db);
        Assert.True(printCode == 0, printError);
        var expected = Lines(printed);
        Assert.True(expected.Count >= 6, $"only {expected.Count} events");   // run and at least cache-teacher and train, START and an end each

        using (var marquez = new Listener(_ => 201))
        {
            var (code, output, error) = CliRunner.Run("", "lineage", id, "--openlineage", "--url", marquez.Url + "/", "--database", db);
            Assert.True(code == 0, error);
            Assert.Contains($"{expected.Count} OpenLineage events sent", output);
            var requests = marquez.Requests.ToList();
            Assert.All(requests, r => Assert.Equal(("POST", "/api/v1/lineage"), (r.Method, r.Path)));
            Assert.All(requests, r => Assert.StartsWith("application/json", r.ContentType));
            var received = requests.Select(r => JsonNode.Parse(r.Body)!).ToList();
            Assert.Equal(expected.Count, received.Count);
            for (var k = 0; k < expected.Count; k++) Assert.True(JsonNode.DeepEquals(expected[k], received[k]), $"event {k + 1} differs: {received[k].ToJsonString()}");
            var runId = received[0]["run"]!["runId"]!.GetValue<string>();
            Assert.Equal("START", received[0]["eventType"]!.GetValue<string>());
            Assert.Equal(("COMPLETE", runId), (received[^1]["eventType"]!.GetValue<string>(), received[^1]["run"]!["runId"]!.GetValue<string>()));
        }

        using (var refusing = new Listener(n => n == 2 ? 500 : 200))
        {
            var (code, output, error) = CliRunner.Run("", "lineage", id, "--openlineage", "--url", refusing.Url, "--database", db);
            Assert.Equal(1, code);
            var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Contains("500", line);
            Assert.Contains("1 delivered", line);
            Assert.Equal(2, refusing.Requests.Count);   // stops at the refusal
            Assert.DoesNotContain("sent", output);
        }

        Assert.Equal(2, CliRunner.Run("", "lineage", id, "--openlineage", "--url", "ftp://example.org", "--database", db).ExitCode);
        Assert.Equal(2, CliRunner.Run("", "lineage", id, "--url", "http://127.0.0.1:1", "--database", db).ExitCode);
    }

    [Fact]
    public void CacheTeacherStage_OutputsTheCacheFile_WithAFacetNamingItsTeacher()
    {
        var (db, id) = RunWithCachedTeacher();
        var artifacts = new LineageStore(db).Artifacts(long.Parse(id, System.Globalization.CultureInfo.InvariantCulture));
        var cache = Assert.Single(artifacts, a => a.Kind == "cache");
        var teacher = Assert.Single(artifacts, a => a.Role == "teacher:llama");
        var (code, output, error) = CliRunner.Run("", "lineage", id, "--openlineage", "--database", db);
        Assert.True(code == 0, error);
        var stage = Lines(output).Where(e => e["job"]!["name"]!.GetValue<string>() == "ol.cache-teacher.llama").ToList();
        Assert.Equal(["START", "COMPLETE"], stage.Select(e => e["eventType"]!.GetValue<string>()));

        var made = Assert.Single(stage[1]["outputs"]!.AsArray());
        Assert.Equal(cache.Path, made!["name"]!.GetValue<string>());
        Assert.Equal(cache.Sha256, made["facets"]!["version"]!["datasetVersion"]!.GetValue<string>());
        var facet = made["facets"]!["multiteacher_teacher"]!;
        Assert.Equal("llama", facet["name"]!.GetValue<string>());
        Assert.Equal(teacher.Path, Assert.Single(facet["datasets"]!.AsArray())!["name"]!.GetValue<string>());
        Assert.Equal([teacher.Path], stage[0]["inputs"]!.AsArray().Select(i => i!["name"]!.GetValue<string>()));
        Assert.Empty(stage[0]["outputs"]!.AsArray());

        // Only the stage that made the cache lists it as an output.
        var train = Lines(output).Where(e => e["job"]!["name"]!.GetValue<string>().StartsWith("ol.train.", StringComparison.Ordinal));
        Assert.All(train, e => Assert.Empty(e["outputs"]!.AsArray()));
    }
}
