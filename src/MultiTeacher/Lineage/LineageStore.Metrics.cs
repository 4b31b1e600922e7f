using Npgsql;
using NpgsqlTypes;

namespace MultiTeacher.Lineage;

public sealed partial class LineageStore
{
    /// <summary>Every metric row of a run.</summary>
    public IReadOnlyDictionary<(int Step, string Name), double> Metrics(long runId)
    {
        using var c = Open();
        using var reader = Command(c, "SELECT step, name, value FROM lineage.metrics WHERE run_id = $1", runId).ExecuteReader();
        var rows = new Dictionary<(int, string), double>();
        while (reader.Read()) rows[(reader.GetInt32(0), reader.GetString(1))] = reader.GetDouble(2);
        return rows;
    }

    /// <summary>Appends metric rows with one binary COPY; a rerun of the same step overwrites it.</summary>
    public void AppendMetrics(long runId, IReadOnlyCollection<(int Step, string Name, double Value)> rows)
    {
        if (rows.Count == 0) return;
        using var c = Open();
        using var tx = c.BeginTransaction();
        new NpgsqlCommand("CREATE TEMP TABLE incoming (step integer, name text, value double precision) ON COMMIT DROP", c, tx).ExecuteNonQuery();
        using (var copy = c.BeginBinaryImport("COPY incoming (step, name, value) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var (step, name, value) in rows)
            {
                copy.StartRow();
                copy.Write(step, NpgsqlDbType.Integer);
                copy.Write(name, NpgsqlDbType.Text);
                copy.Write(value, NpgsqlDbType.Double);
            }
            copy.Complete();
        }
        var merge = new NpgsqlCommand("""
            INSERT INTO lineage.metrics (run_id, step, name, value) SELECT $1, step, name, value FROM incoming
            ON CONFLICT (run_id, step, name) DO UPDATE SET value = EXCLUDED.value
            """, c, tx);
        merge.Parameters.Add(new NpgsqlParameter { Value = runId });
        merge.ExecuteNonQuery();
        tx.Commit();
    }

    /// <summary>Last value, minimum and maximum of every metric of a run.</summary>
    public IReadOnlyList<(string Name, double Last, double Min, double Max, int Count)> MetricSummary(long runId)
    {
        using var c = Open();
        using var reader = Command(c, """
            SELECT name, (array_agg(value ORDER BY step DESC))[1], min(value), max(value), count(*)::int
            FROM lineage.metrics WHERE run_id = $1 GROUP BY name ORDER BY name
            """, runId).ExecuteReader();
        var result = new List<(string, double, double, double, int)>();
        while (reader.Read()) result.Add((reader.GetString(0), reader.GetDouble(1), reader.GetDouble(2), reader.GetDouble(3), reader.GetInt32(4)));
        return result;
    }

    /// <summary>
    /// Every metric series of a run with at most about <paramref name="maxPoints"/> points each, for
    /// charts: a series longer than that keeps every k-th step (k = ceil(n / maxPoints)) and always
    /// its first and last, so a long run's chart costs the same as a short one's.
    /// </summary>
    public IReadOnlyDictionary<string, IReadOnlyList<(int Step, double Value)>> MetricSeries(long runId, int maxPoints)
    {
        using var c = Open();
        using var reader = Command(c, """
            SELECT name, step, value FROM (
                SELECT name, step, value, row_number() OVER w AS i, count(*) OVER (PARTITION BY name) AS n
                FROM lineage.metrics WHERE run_id = $1 WINDOW w AS (PARTITION BY name ORDER BY step)) m
            WHERE n <= $2 OR i = 1 OR i = n OR (i - 1) % ceil(n::float8 / $2)::bigint = 0
            ORDER BY name, step
            """, runId, Math.Max(2, maxPoints)).ExecuteReader();
        var series = new Dictionary<string, IReadOnlyList<(int, double)>>(StringComparer.Ordinal);
        while (reader.Read())
        {
            var name = reader.GetString(0);
            if (!series.TryGetValue(name, out var points)) series[name] = points = new List<(int, double)>();
            ((List<(int, double)>)points).Add((reader.GetInt32(1), reader.GetDouble(2)));
        }
        return series;
    }
}
