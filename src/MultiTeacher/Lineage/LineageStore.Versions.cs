namespace MultiTeacher.Lineage;

public sealed partial class LineageStore
{
    /// <summary>
    /// A value that changes whenever anything a run's page or charts show changes: its status and
    /// error, its latest metric step and the rows at that step, its stages, artifacts and audits.
    /// One query through primary keys and indexes, so a reader can tell whether what it rendered
    /// before still stands for far less than rendering again. Null when there is no such run.
    /// </summary>
    public string? RunVersion(long runId)
    {
        using var c = Open();
        return (string?)Command(c, """
            SELECT concat_ws('|', r.status, r.finished_at, md5(coalesce(r.error, '')), r.failure, last.step,
                (SELECT count(*) FROM lineage.metrics m WHERE m.run_id = r.id AND m.step = last.step),
                (SELECT md5(coalesce(string_agg(concat_ws(',', s.status, s.started_at, s.finished_at, s.attempts, s.worker), ';' ORDER BY s.id), ''))
                    FROM lineage.stages s WHERE s.run_id = r.id),
                (SELECT count(*) FROM lineage.edges e WHERE e.run_id = r.id),
                (SELECT count(*) || ':' || coalesce(max(a.id), 0) FROM lineage.audits a WHERE a.run_id = r.id))
            FROM lineage.runs r, LATERAL (SELECT max(step) AS step FROM lineage.metrics m WHERE m.run_id = r.id) last
            WHERE r.id = $1
            """, runId).ExecuteScalar();
    }

    /// <summary>
    /// A value that changes whenever the lineage graph around any run could: a new run, a new edge
    /// or artifact, a run changing status.
    /// </summary>
    public string LineageVersion()
    {
        using var c = Open();
        return (string)Command(c, """
            SELECT concat_ws('|', (SELECT max(id) FROM lineage.runs), (SELECT count(*) FROM lineage.edges), (SELECT max(id) FROM lineage.artifacts),
                (SELECT string_agg(status || ':' || n, ',' ORDER BY status) FROM (SELECT status, count(*) AS n FROM lineage.runs GROUP BY status) s),
                (SELECT max(finished_at) FROM lineage.runs))
            """).ExecuteScalar()!;
    }

    /// <summary>
    /// A value that changes whenever the table of the newest <paramref name="limit"/> runs could: a
    /// run added, changing status or logging a step, an artifact linked; and every second while a
    /// run is live, as its duration counts up.
    /// </summary>
    public string RunsVersion(int limit)
    {
        using var c = Open();
        return (string)Command(c, """
            SELECT concat_ws('|', (SELECT count(*) FROM lineage.edges),
                string_agg(concat_ws(':', r.id, r.status, r.finished_at, md5(coalesce(r.error, '')),
                    CASE WHEN r.finished_at IS NULL THEN (SELECT max(step) FROM lineage.metrics m WHERE m.run_id = r.id) END), ',' ORDER BY r.id),
                CASE WHEN bool_or(r.finished_at IS NULL) THEN floor(extract(epoch FROM clock_timestamp())) END)
            FROM (SELECT id, status, finished_at, error FROM lineage.runs ORDER BY id DESC LIMIT $1) r
            """, limit).ExecuteScalar()!;
    }
}
