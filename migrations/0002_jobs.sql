-- Jobs: runs are submitted (queued) and executed stage by stage by Hangfire workers.
-- A stage row is the unit of work a job claims; `attempts` counts executions so a stage that ran
-- twice is visible, `hangfire_job` is the job that owns it (a SIGKILLed job picked up again keeps
-- its id and may reclaim its own running stage). The train stage waits in 'pending' until every
-- cache-teacher stage has succeeded; the transaction that completes the last one queues it.
ALTER TABLE lineage.stages DROP CONSTRAINT stages_status_check;
ALTER TABLE lineage.stages ADD CONSTRAINT stages_status_check
    CHECK (status IN ('pending', 'queued', 'running', 'succeeded', 'failed', 'cancelled'));
ALTER TABLE lineage.stages
    ADD COLUMN hangfire_job text,
    ADD COLUMN attempts     integer NOT NULL DEFAULT 0,
    ADD COLUMN worker       text,
    ADD COLUMN error        text;

ALTER TABLE lineage.runs
    ADD COLUMN queue            text,
    ADD COLUMN resume           boolean NOT NULL DEFAULT false,  -- start from the newest checkpoint in the output directory
    ADD COLUMN cancel_requested boolean NOT NULL DEFAULT false;

-- Why a failed run failed: 'bad-input' (the recipe or an input is wrong; exit code 2) or 'error'.
ALTER TABLE lineage.runs ADD COLUMN failure text CHECK (failure IN ('bad-input', 'error'));
