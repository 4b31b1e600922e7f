using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using MultiTeacher.Assets;
using MultiTeacher.Corpora;
using MultiTeacher.Dashboard;
using MultiTeacher.Lineage;
using Npgsql;

namespace MultiTeacher.Benchmarks;

/// <summary>
/// The dashboard under load while a tiny training runs (`mt run` in its own process, as users run
/// it): requests at 50 concurrent against the run pages and Hangfire, with errors, p50/p99 latency and
/// the dashboard's peak connections; and the training's throughput in the steps before the load
/// (the baseline) and during it, same run.
/// </summary>
public static class DashboardLoadBenchmark
{
    private const int Concurrency = 50;
    private static readonly int Requests = int.TryParse(Environment.GetEnvironmentVariable("MT_BENCH_REQUESTS"), out var n) ? n : 4_000;

    public static BenchmarkSection Run(AssetStore assets)
    {
        var root = Path.Combine(Path.GetTempPath(), "mt-bench-dash-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(root);
        var server = new EmbeddedPostgres(Path.Combine(root, "pg"), port: 55000 + Random.Shared.Next(6000, 7000));
        Process? training = null;
        try
        {
            var connection = server.EnsureRunning();
            Migrator.Apply(connection);
            training = StartTraining(assets, root, connection);
            var store = new LineageStore(connection);
            var run = WaitFor(() => store.Runs().FirstOrDefault(r => r.Steps >= 40)?.Id, training, "the training to pass step 40");
            var baselineFrom = store.Run(run)!.Steps;
            var baselineTo = WaitFor(() => store.Run(run)!.Steps is var s && s >= baselineFrom + 60 ? s : null, training, "60 baseline steps");

            var port = FreePort();
            var settings = new DashboardSettings(connection, [$"http://127.0.0.1:{port}"], null, false, Path.Combine(root, "cache"));
            using var app = DashboardApp.Build(settings);
            app.StartAsync().GetAwaiter().GetResult();
            var loadFrom = store.Run(run)!.Steps;
            var (latencies, byPath, errors, firstError, peak, seconds) = Load(port, run, connection);
            var loadTo = store.Run(run)!.Steps;
            app.StopAsync().GetAwaiter().GetResult();
            if (training.HasExited) throw new InvalidOperationException($"the training ended during the load (exit {training.ExitCode})");

            var throughput = store.MetricSeries(run, int.MaxValue)["tokens_per_s"];
            double Median(long from, long to) => BenchmarkReport.Median(throughput.Where(p => p.Step > from && p.Step <= to).Select(p => p.Value).ToList());
            var before = Median(baselineFrom, baselineTo);
            var during = Median(loadFrom, loadTo);
            latencies.Sort();
            var md = new StringBuilder();
            md.AppendLine($"{Requests:N0} GET requests at {Concurrency} concurrent, spread over `/`, `/runs/{{id}}`, `/runs/{{id}}/charts.json`, `/runs/{{id}}/lineage.json`, `/hangfire` and `/hangfire/jobs/processing`, while `mt run` trains a tiny student (2 layers, hidden 64, Mistral tokenizer) in its own process against the same private PostgreSQL (max_connections 100). The dashboard's pool: {settings.MaxConnections} connections, shared by its pages and Hangfire; {settings.MaxConcurrentRequests} request(s) served at once; its threads at nice {settings.Nice}. The load generator runs in the dashboard's process, at the same priority: each latency is what the client measured, from before sending to the end of the response, its own wait for the CPU included.");
            md.AppendLine();
            md.AppendLine("| requests | errors | p50 | p99 | max | requests/s | dashboard's peak connections |");
            md.AppendLine("|---|---|---|---|---|---|---|");
            md.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {latencies.Count:N0} | **{errors}** | {Percentile(latencies, 0.50):F3} s | **{Percentile(latencies, 0.99):F3} s** | {latencies[^1]:F3} s | {latencies.Count / seconds:F0} | {peak} of {settings.MaxConnections} |"));
            md.AppendLine();
            md.AppendLine("| page | requests | p50 | p99 |");
            md.AppendLine("|---|---|---|---|");
            foreach (var (path, times) in byPath)
            {
                times.Sort();
                md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| `{path.Replace(run.ToString(CultureInfo.InvariantCulture), "{id}")}` | {times.Count:N0} | {Percentile(times, 0.50):F3} s | {Percentile(times, 0.99):F3} s |"));
            }
            md.AppendLine();
            md.AppendLine("| training throughput (median tokens/s per step) | steps | tokens/s | ratio |");
            md.AppendLine("|---|---|---|---|");
            md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| without load (baseline, same run) | {baselineFrom + 1}–{baselineTo} | {before:F0} | 1.00x |"));
            md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| during the load | {loadFrom + 1}–{loadTo} | {during:F0} | **{during / before:F2}x** |"));
            md.AppendLine();
            md.AppendLine($"Goal: 0 errors, p99 under 2 s, throughput within 10% of the baseline.{(firstError is null ? "" : $" First error: {firstError}")}");
            return new BenchmarkSection("Dashboard under load while training", md.ToString());
        }
        finally
        {
            if (training is { HasExited: false }) { training.Kill(entireProcessTree: true); training.WaitForExit(); }
            training?.Dispose();
            server.Stop();
            Directory.Delete(root, recursive: true);
        }
    }

    private static Process StartTraining(AssetStore assets, string root, string connection)
    {
        var docs = BrownCorpus.Read(assets.Require("corpora/brown"), "a").Take(20).Select(d => d.Text);
        File.WriteAllText(Path.Combine(root, "train.txt"), string.Join("\n\n", docs));
        File.WriteAllText(Path.Combine(root, "student.json"), JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["model_type"] = "mistral", ["vocab_size"] = 32000, ["hidden_size"] = 64, ["intermediate_size"] = 128, ["num_hidden_layers"] = 2,
            ["num_attention_heads"] = 4, ["num_key_value_heads"] = 2, ["max_position_embeddings"] = 512, ["tie_word_embeddings"] = true,
        }));
        File.WriteAllText(Path.Combine(root, "load.yaml"), $"""
            name: load
            threads: 1
            data: {"{"} train: train.txt, seq_len: 64 {"}"}
            student: {"{"} config: student.json, tokenizer: {assets.Require("tokenizers/mistral-7b-v0.1")} {"}"}
            train: {"{"} steps: 100000, batch_size: 4, lr: 0.001, log_every: 1, checkpoint_every: 100000 {"}"}
            eval: {"{"} every: 0, max_bytes: 2000 {"}"}
            output: out
            """);
        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "mt"), ["run", Path.Combine(root, "load.yaml"), "--database", connection])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = root,
        };
        start.Environment["MT_CACHE"] = Path.Combine(root, "cache");
        start.Environment["MT_DATA"] = Path.Combine(root, "data");
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => { if (e.Data is { Length: > 0 }) Console.Error.WriteLine("mt run: " + e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static (List<double> Latencies, Dictionary<string, List<double>> ByPath, int Errors, string? FirstError, int Peak, double Seconds) Load(int port, long run, string connection)
    {
        string[] paths = ["/", $"/runs/{run}", $"/runs/{run}/charts.json", $"/runs/{run}/lineage.json", "/hangfire", "/hangfire/jobs/processing"];
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Concurrency }) { Timeout = TimeSpan.FromSeconds(120) };
        var latencies = new List<double>();
        var byPath = paths.ToDictionary(p => p, _ => new List<double>());
        var errors = 0;
        string? firstError = null;
        var next = -1;
        var peak = 0;
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(() => SamplePeak(connection, stop.Token, p => peak = Math.Max(peak, p)));
        var watch = Stopwatch.StartNew();
        var clients = Enumerable.Range(0, Concurrency).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < Requests)
            {
                var t = Stopwatch.StartNew();
                string? error = null;
                try
                {
                    using var response = await http.GetAsync($"http://127.0.0.1:{port}{paths[i % paths.Length]}");
                    await response.Content.ReadAsByteArrayAsync();
                    if (response.StatusCode != HttpStatusCode.OK) error = $"{paths[i % paths.Length]}: HTTP {(int)response.StatusCode}";
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { error = $"{paths[i % paths.Length]}: {e.Message}"; }
                lock (latencies)
                {
                    latencies.Add(t.Elapsed.TotalSeconds);
                    byPath[paths[i % paths.Length]].Add(t.Elapsed.TotalSeconds);
                    if (error is not null) { errors++; firstError ??= error; }
                }
            }
        })).ToArray();
        Task.WaitAll(clients);
        var seconds = watch.Elapsed.TotalSeconds;
        stop.Cancel();
        sampler.Wait();
        return (latencies, byPath, errors, firstError, peak, seconds);
    }

    /// <summary>The dashboard's connections (named by its application name), sampled every 20 ms.</summary>
    private static void SamplePeak(string connection, CancellationToken stop, Action<int> report)
    {
        using var c = new NpgsqlConnection(connection);
        c.Open();
        using var count = new NpgsqlCommand("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", c);
        count.Parameters.Add(new NpgsqlParameter { Value = DashboardSettings.ApplicationName });
        while (!stop.IsCancellationRequested)
        {
            report(Convert.ToInt32(count.ExecuteScalar(), CultureInfo.InvariantCulture));
            Thread.Sleep(20);
        }
    }

    private static long WaitFor(Func<long?> condition, Process training, string what)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            if (condition() is { } value) return value;
            if (training.HasExited) throw new InvalidOperationException($"the training ended (exit {training.ExitCode}) before {what}");
            if (watch.Elapsed > TimeSpan.FromMinutes(5)) throw new TimeoutException($"waited 5 min for {what}");
            Thread.Sleep(200);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static double Percentile(List<double> sorted, double q) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)];
}
