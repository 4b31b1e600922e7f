using System.Security.Cryptography;
using MultiTeacher.Lineage;
using MultiTeacher.Runs;
using MultiTeacher.Tests.Integration;
using Npgsql;
using static MultiTeacher.Tests.Jobs.JobHarness;

namespace MultiTeacher.Tests.Jobs;

/// <summary>Workers as on other machines: their own processes and data directories, PostgreSQL over TCP with a password, one shared artifact root.</summary>
[Trait("Category", TestCategory.Database)]
public sealed class RemoteWorkerTests : TempDirectoryTest
{
    [Fact]
    public void TwoWorkersSharingOnlyTheDatabaseUrlAndTheArtifactRoot_SplitTheShards_AndRebuildAShardCorruptedInTheSharedRoot()
    {
        // Quotes in the password: it reaches ALTER ROLE as a literal, the URL escaped and the workers through PGPASSWORD.
        var password = $"pw'{Guid.NewGuid():N}\"@:/";
        using var server = new RemoteServer(tls: false, password);
        var socket = server.Socket;
        var url = server.Url(password);
        var refused = Assert.Throws<PostgresException>(() =>
        {
            using var c = new NpgsqlConnection(DatabaseUrl.ToConnectionString(server.Url("wrong")));
            c.Open();
        });
        Assert.Equal(PostgresErrorCodes.InvalidPassword, refused.SqlState);

        var runs = new TinyRuns(TempDir);
        runs.WriteData(trainDocuments: 1, trainChars: 2000);
        var t = TinyRuns.Teachers[1];
        var teacher = runs.WriteTeacher(t.Name, t.ModelType, t.Tokenizer, t.Vocab, 40);
        var student = runs.WriteConfig("student", "mistral", 32000);
        string Recipe(string name, int seed) => runs.WriteRecipe(name, $"""
            seed: {seed}
            device: cpu
            data: {"{"} train: train.txt, seq_len: 32 {"}"}
            teachers:
              - {"{"} name: {t.Name}, path: {teacher} {"}"}
            student: {"{"} config: {student}, tokenizer: {TestAssets.TokenizerDir("mistral-7b-v0.1")} {"}"}
            alignment: {"{"} top_k: 8 {"}"}
            train: {"{"} steps: 2, batch_size: 2, cache_shard_tokens: 60 {"}"}
            """);
        var shared = Path.Combine(TempDir, "shared-artifacts");
        var machines = Enumerable.Range(0, 2).Select(i => Directory.CreateDirectory(Path.Combine(TempDir, $"machine-{i}")).FullName).ToList();
        var workers = machines.Select(m => RemoteServer.Worker(server.Url(password: null), shared, m, password)).ToList();
        try
        {
            WaitUntil(() => RegisteredServers(socket) >= 2, seconds: 60, what: "both workers to register over TCP");
            var first = Submit(url, Recipe("remote-a", 4), "remote");
            var end = WaitForEnd(socket, first, seconds: 120);
            Assert.True(end.Status == RunStatus.Succeeded, $"{end.Status}: {end.Error}\n{workers[0].Output}\n{workers[1].Output}");

            var stages = new LineageStore(socket).Stages(first).Where(s => s.Kind == StageKind.CacheTeacher).ToList();
            Assert.True(stages.Count >= 4, $"{stages.Count} shards");
            // Each shard's row names the worker process that built it (the relaunched mt, where it relaunched), and both took some.
            var names = workers.Select(w => $"{System.Net.Dns.GetHostName()}:{(w.Children() is [var child] ? child : w.Pid)}").Order().ToList();
            Assert.Equal(names, stages.Select(s => s.Worker).Distinct().Order());
            var files = Directory.GetFiles(Path.Combine(shared, "teachers"), "*.mtcache").Order().ToList();
            Assert.Equal(stages.Count, files.Count);
            // Neither worker started a database of its own or wrote caches outside the shared root; both talk over TCP.
            Assert.All(machines, m => Assert.False(Directory.Exists(Path.Combine(m, "data", "postgres")) || Directory.Exists(Path.Combine(m, "cache", "teachers")), m));
            Assert.True(Scalar(socket, "SELECT count(DISTINCT client_port) FROM pg_stat_activity WHERE client_addr = '127.0.0.1'::inet AND usename = $1", EmbeddedPostgres.User) >= 2);

            // One shard altered in the shared root between runs: the next run's worker finds its sha256 wrong and builds it again.
            var victim = files[1];
            var original = File.ReadAllBytes(victim);
            var altered = (byte[])original.Clone();
            altered[altered.Length / 2] ^= 0x5A;
            File.WriteAllBytes(victim, altered);
            var second = Submit(url, Recipe("remote-b", 5), "remote");
            end = WaitForEnd(socket, second, seconds: 120);
            var output = workers[0].Output + workers[1].Output;
            Assert.True(end.Status == RunStatus.Succeeded, $"{end.Status}: {end.Error}\n{output}");
            var lines = output.Split('\n').Where(l => l.StartsWith($"[run {second} cache-teacher", StringComparison.Ordinal)).ToList();
            Assert.Equal(victim, Assert.Single(lines, l => l.Contains("checksum mismatch")).Split(" at ")[1].Split(" not usable")[0]);
            Assert.Single(lines, l => l.Contains("cache built") && l.Contains(victim));
            Assert.Equal(files.Count - 1, lines.Count(l => l.Contains("cache reused")));
            var rebuilt = File.ReadAllBytes(victim);
            Assert.Equal(SHA256.HashData(rebuilt.AsSpan(0, rebuilt.Length - 32)), rebuilt[^32..]);
            Assert.Equal(original, rebuilt);
        }
        finally { foreach (var w in workers) w.Dispose(); }
    }
}
