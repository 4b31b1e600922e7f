using System.Diagnostics;
using System.Text;
using MultiTeacher.Assets;
using MultiTeacher.Lineage;
using Npgsql;

namespace MultiTeacher.Benchmarks;

/// <summary>Metric ingestion through the lineage store (COPY batches) against a plain single-row INSERT loop, same server, same run.</summary>
public static class LineageBenchmark
{
    public static BenchmarkSection Run(AssetStore _)
    {
        var root = Path.Combine(Path.GetTempPath(), "mt-bench-pg-" + Guid.NewGuid().ToString("N")[..8]);
        var server = new EmbeddedPostgres(root, port: 55000 + Random.Shared.Next(4000, 5000));
        try
        {
            var connection = server.EnsureRunning();
            Migrator.Apply(connection);
            var store = new LineageStore(connection);
            var run = store.StartRun(store.RecordRecipe("bench", "name: bench"), 1, new Dictionary<string, string>());

            const int singleRows = 5_000, batches = 20, batchRows = 10_000;
            var watch = Stopwatch.StartNew();
            using (var c = new NpgsqlConnection(connection))
            {
                c.Open();
                for (var i = 0; i < singleRows; i++)
                {
                    using var insert = new NpgsqlCommand("INSERT INTO lineage.metrics (run_id, step, name, value) VALUES ($1, $2, 'single', $3)", c);
                    insert.Parameters.Add(new NpgsqlParameter { Value = run });
                    insert.Parameters.Add(new NpgsqlParameter { Value = i });
                    insert.Parameters.Add(new NpgsqlParameter { Value = (double)i });
                    insert.ExecuteNonQuery();
                }
            }
            var singlePerSecond = singleRows / watch.Elapsed.TotalSeconds;

            watch.Restart();
            for (var b = 0; b < batches; b++)
                store.AppendMetrics(run, Enumerable.Range(b * batchRows, batchRows).Select(i => (i, "copy", (double)i)).ToList());
            var copyPerSecond = batches * batchRows / watch.Elapsed.TotalSeconds;

            var md = new StringBuilder();
            md.AppendLine("Private PostgreSQL 15 over its Unix socket; one run's metric rows (run, step, name, value).");
            md.AppendLine();
            md.AppendLine("| path | rows | rows/s | ratio |");
            md.AppendLine("|---|---|---|---|");
            md.AppendLine($"| single-row INSERT loop, one connection (baseline) | {singleRows:N0} | {singlePerSecond:N0} | 1.0x |");
            md.AppendLine($"| LineageStore.AppendMetrics (binary COPY, {batchRows:N0} rows per batch) | {batches * batchRows:N0} | {copyPerSecond:N0} | **{copyPerSecond / singlePerSecond:F1}x** |");
            return new BenchmarkSection("Lineage metric ingestion", md.ToString());
        }
        finally
        {
            server.Stop();
            Directory.Delete(root, recursive: true);
        }
    }
}
