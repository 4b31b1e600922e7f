using System.Diagnostics;
using System.Text;
using MultiTeacher.Assets;
using MultiTeacher.Corpora;
using MultiTeacher.Jobs;
using MultiTeacher.Lineage;
using MultiTeacher.Models;
using MultiTeacher.Recipes;
using MultiTeacher.Runs;
using MultiTeacher.Teachers;
using MultiTeacher.Tokenization;
using Npgsql;
using static TorchSharp.torch;

namespace MultiTeacher.Benchmarks;

/// <summary>
/// Caching one teacher in shards with two `mt worker` processes of one CPU each against one such
/// worker, alternating, same data, teacher and database. Each worker is pinned to its own CPU
/// (taskset) with one torch thread, so "one worker" is one core's work; each measurement starts from
/// an empty cache (its projections copied from a warm-up), so no shard is reused.
/// </summary>
public static class ScaleOutBenchmark
{
    private const int Rounds = 5, Shards = 32, SamplesPerShard = 16, SequenceLength = 128, Hidden = 384, Layers = 4;
    /// <summary>A sample holds SequenceLength + 1 tokens (with BOS), so a shard closes on its SamplesPerShard-th.</summary>
    private const int ShardTokens = SamplesPerShard * SequenceLength;

    public static BenchmarkSection Run(AssetStore store)
    {
        if (Environment.ProcessorCount < 2) throw new InvalidOperationException($"the scale-out benchmark needs 2 CPUs; this process may use {Environment.ProcessorCount}");
        // Not a private temporary directory: as root the private server runs as the postgres user, who must enter it.
        var root = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "mt-bench-scaleout-" + Guid.NewGuid().ToString("N")[..8])).FullName;
        var server = new EmbeddedPostgres(Path.Combine(root, "pg"), port: 55000 + Random.Shared.Next(6000, 7000));
        try
        {
            var connection = server.EnsureRunning();
            Migrator.Apply(connection);
            JobStorage.Create(connection);   // Hangfire's schema, before the workers are watched for in it
            return Measure(store, root, connection, new CpuMeter(server.DataDirectory));
        }
        finally
        {
            server.Stop();
            Directory.Delete(root, recursive: true);
        }
    }

    private static BenchmarkSection Measure(AssetStore store, string root, string connection, CpuMeter cpu)
    {
        var recipe = WriteInputs(store, root);
        var loaded = RecipeLoader.Load(recipe);
        var plan = TeacherCaches.ShardsOf(loaded);
        var warm = Path.Combine(root, "cache-warm");
        Cache(connection, recipe, warm, workers: 1, "warm", cpu);
        var (ones, twos, ceilings) = (new List<ScaleOutMeasurement>(), new List<ScaleOutMeasurement>(), new List<double>());
        for (var r = 0; r < Rounds; r++)
        {
            ones.Add(Cache(connection, recipe, FreshCache(root, warm, $"one-{r}"), workers: 1, $"one{r}", cpu));
            twos.Add(Cache(connection, recipe, FreshCache(root, warm, $"two-{r}"), workers: 2, $"two{r}", cpu));
            var ceiling = ScaleOutCeiling.Measure(recipe);
            ceilings.Add(ceiling.Ceiling);
            Console.Error.WriteLine($"round {r + 1}: 1 worker {ones[^1].Seconds:F2} s, 2 workers {twos[^1].Seconds:F2} s; " +
                                    $"caching without jobs: {ceiling.Alone:F3} s a pass alone, {ceiling.Paired:F3} s in a pair ({ceiling.Ceiling:F2}x)");
        }
        var (one, two) = (ones.Select(m => m.Seconds).ToList(), twos.Select(m => m.Seconds).ToList());
        double m1 = BenchmarkReport.Median(one), m2 = BenchmarkReport.Median(two);
        var tokens = plan.Shards.Sum(s => s.Count) * (double)SequenceLength;
        var md = new StringBuilder();
        md.AppendLine($"One teacher (Mistral shape and tokenizer, hidden {Hidden}, {Layers} layers, vocabulary 32,000, float32, random weights) cached over ~{tokens:N0} tokens of Brown corpus text " +
                      $"(seq_len {SequenceLength}) in {plan.Count} shards (`train.cache_shard_tokens: {ShardTokens}`), one Hangfire job each, top-k 32. " +
                      $"Each worker is an `mt worker --workers 1` process pinned to its own CPU with one torch thread; PostgreSQL on the same machine. " +
                      $"Time: first shard claimed to last shard done, from the stage rows. {Rounds} alternating rounds; medians with min–max.");
        md.AppendLine();
        md.AppendLine("| workers | caching s | tokens/s | speed-up |");
        md.AppendLine("|---|---|---|---|");
        md.AppendLine($"| 1 worker × 1 thread (baseline) | {m1:F1} ({one.Min():F1}–{one.Max():F1}) | {tokens / m1:N0} | 1.00x |");
        md.AppendLine($"| 2 workers × 1 thread | {m2:F1} ({two.Min():F1}–{two.Max():F1}) | {tokens / m2:N0} | **{m1 / m2:F2}x** ({one.Min() / two.Max():F2}–{one.Max() / two.Min():F2}) |");
        md.AppendLine();
        var top = BenchmarkReport.Median(ceilings);
        md.AppendLine($"Ceiling of this machine, measured in each round: the same teacher caching one shard's texts (`TeacherCaches.Build`, one thread) over and over in one process pinned to a CPU alone, " +
                      $"then in two such processes at once, one per CPU, with no job system, database or benchmark process at work. Two processes reach **{top:F2}x** " +
                      $"({ceilings.Min():F2}–{ceilings.Max():F2}) the throughput of one; the two workers reach {m1 / m2 / top:P0} of that.");
        md.AppendLine();
        md.Append(ScaleOutPhases.Table(ones, twos, plan.Count));
        return new BenchmarkSection("Scale-out: sharded teacher cache on 1 and 2 workers", md.ToString());
    }

    private static string WriteInputs(AssetStore store, string root)
    {
        var tokenizer = store.Require("tokenizers/mistral-7b-v0.1");
        // Packed text cut after Shards × SamplesPerShard full samples: every shard holds as many, so two workers get equal shares.
        var text = string.Join("\n\n", BrownCorpus.Read(store.Require("corpora/brown"), "a").Select(d => d.Text));
        var encoded = HfTokenizer.FromDirectory(tokenizer).Encode(text, addSpecialTokens: false);
        File.WriteAllText(Path.Combine(root, "train.txt"), text[..encoded.Offsets[Shards * SamplesPerShard * SequenceLength - 1].End]);
        var teacherDir = Path.Combine(root, "teacher");
        using (var teacher = new CausalLM(DistillationBenchmark.Config("mistral", 32000, Hidden, Layers)))
        {
            teacher.InitializeWeights(new Generator(11));
            PretrainedModel.Save(teacher, teacherDir, tokenizer);
        }
        var studentDir = Directory.CreateDirectory(Path.Combine(root, "student")).FullName;
        DistillationBenchmark.Config("mistral", 32000, hidden: 32, layers: 1).Save(studentDir);
        var recipe = Path.Combine(root, "scaleout.yaml");
        File.WriteAllText(recipe, $"""
            name: scaleout
            seed: 1
            device: cpu
            threads: 1
            data: {"{"} train: train.txt, seq_len: {SequenceLength}, packing: true {"}"}
            teachers:
              - {"{"} name: mistral, path: {teacherDir} {"}"}
            student: {"{"} config: {Path.Combine(studentDir, "config.json")}, tokenizer: {tokenizer} {"}"}
            alignment: {"{"} top_k: 32 {"}"}
            train: {"{"} steps: 1, batch_size: 2, cache_shard_tokens: {ShardTokens} {"}"}
            eval: {"{"} every: 0 {"}"}
            output: {Path.Combine(root, "out")}
            """);
        var plan = TeacherCaches.ShardsOf(RecipeLoader.Load(recipe));
        if (plan.Count != Shards || plan.Shards.Any(s => s.Count != SamplesPerShard))
            throw new InvalidOperationException($"the data gives shards of {string.Join(", ", plan.Shards.Select(s => s.Count))} samples, not {Shards} of {SamplesPerShard}");
        return recipe;
    }

    private static string FreshCache(string root, string warm, string name)
    {
        var dir = Path.Combine(root, "cache-" + name);
        foreach (var file in Directory.GetFiles(Path.Combine(warm, "projections"), "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(dir, "projections", Path.GetRelativePath(Path.Combine(warm, "projections"), file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        return dir;
    }

    /// <summary>Submits the recipe to a queue of its own served by <paramref name="workers"/> pinned worker processes; the seconds from the first shard's claim to the last shard's end.</summary>
    private static ScaleOutMeasurement Cache(string connection, string recipe, string cacheRoot, int workers, string queue, CpuMeter cpu)
    {
        var lines = new PhaseLines(workers);
        var processes = Enumerable.Range(0, workers).Select(n => Worker(connection, queue, cacheRoot, n, lines)).ToList();
        try
        {
            WaitUntil(() => Scalar(connection, "SELECT count(*) FROM hangfire.server WHERE data::text LIKE $1", $"%\"{queue}\"%") >= workers, "the workers to register", processes);
            var before = cpu.Now();
            var runId = new JobClient(connection, JobStorage.Create(connection)).Submit(RecipeLoader.Load(recipe), queue, cacheRoot: cacheRoot);
            var store = new LineageStore(connection);
            WaitUntil(() => store.Run(runId)!.Status.IsFinished(), "the run to end", processes);
            var after = cpu.Now();
            var run = store.Run(runId)!;
            if (run.Status != RunStatus.Succeeded) throw new InvalidOperationException($"run {runId} {run.Status}: {run.Error}");
            var caches = store.Stages(runId).Where(s => s.Kind == StageKind.CacheTeacher).ToList();
            var workersUsed = Scalar(connection, "SELECT count(DISTINCT worker) FROM lineage.stages WHERE run_id = $1 AND kind = 'cache-teacher'", runId);
            if (workersUsed != workers) throw new InvalidOperationException($"{workersUsed} of {workers} workers took shards");
            var seconds = (caches.Max(s => s.FinishedAt!.Value) - caches.Min(s => s.StartedAt!.Value)).TotalSeconds;
            // Every job printed its phase line before its stage was marked done; the pipe may still hold it.
            WaitUntil(() => lines.Count >= caches.Count, "every shard job's phase line", processes);
            var phases = lines.Take();
            return new ScaleOutMeasurement(seconds, phases, ScaleOutMeasurement.Idle(caches), ScaleOutMeasurement.Outside(caches, phases), after.Benchmark - before.Benchmark, after.Postgres - before.Postgres);
        }
        finally
        {
            foreach (var p in processes) { p.Kill(entireProcessTree: true); p.WaitForExit(); p.Dispose(); }
        }
    }

    private static Process Worker(string connection, string queue, string cacheRoot, int cpu, PhaseLines lines)
    {
        var start = new ProcessStartInfo("taskset", ["-c", cpu.ToString(), Path.Combine(AppContext.BaseDirectory, "mt"), "worker", "--queues", queue, "--workers", "1", "--database", connection])
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
        };
        start.Environment["MT_CACHE"] = cacheRoot;
        start.Environment["OMP_NUM_THREADS"] = "1";
        start.Environment["MKL_NUM_THREADS"] = "1";
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not { Length: > 0 } line) return;
            lines.Offer(cpu, line);
            if (line.Contains("failed")) Console.Error.WriteLine($"worker {cpu}: {line}");
        };
        process.ErrorDataReceived += (_, e) => { if (e.Data is { Length: > 0 }) Console.Error.WriteLine($"worker {cpu}: {e.Data}"); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static void WaitUntil(Func<bool> condition, string what, IReadOnlyList<Process> workers)
    {
        var deadline = DateTime.UtcNow.AddMinutes(5);
        while (!condition())
        {
            if (workers.FirstOrDefault(w => w.HasExited) is { } dead) throw new InvalidOperationException($"a worker exited ({dead.ExitCode}) while waiting for {what}");
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"timed out waiting for {what}");
            // The run's times come from its stage rows, not from when this loop sees it end, so polling
            // once a second costs no accuracy and leaves the workers' cores alone (4 polls a second took 2% of a core).
            Thread.Sleep(1000);
        }
    }

    private static long Scalar(string connection, string sql, params object[] values)
    {
        using var c = new NpgsqlConnection(connection);
        c.Open();
        using var command = new NpgsqlCommand(sql, c);
        foreach (var v in values) command.Parameters.Add(new NpgsqlParameter { Value = v });
        return Convert.ToInt64(command.ExecuteScalar() ?? 0L);
    }
}
