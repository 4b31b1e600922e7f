-- Metric reads by series: the dashboard's charts and summaries read one run's metrics name by name
-- in step order (downsampled, last value, min, max). With value included, those reads are index-only
-- scans instead of a sort of every row of the run.
CREATE INDEX metrics_run_name_step ON lineage.metrics (run_id, name, step) INCLUDE (value);
