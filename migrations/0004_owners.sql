-- Which process executes what, so a run whose process is gone can be told from one still working.
-- A stage's owner is the worker process that claimed it; a run's owner is set only when one process
-- alone can execute it (`mt run` on its private queue). The start time (clock ticks after boot, from
-- /proc) keeps a reused pid from passing for the owner.
ALTER TABLE lineage.runs
    ADD COLUMN owner_host  text,
    ADD COLUMN owner_pid   integer,
    ADD COLUMN owner_start bigint;
ALTER TABLE lineage.stages
    ADD COLUMN owner_host  text,
    ADD COLUMN owner_pid   integer,
    ADD COLUMN owner_start bigint;
CREATE INDEX runs_owned_unfinished ON lineage.runs (owner_host) WHERE finished_at IS NULL AND owner_host IS NOT NULL;
