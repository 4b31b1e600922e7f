-- Audits: one row per `mt audit`, holding its verdict and the full report.
-- Directory artifacts also keep a manifest (relative path -> sha256), so an audit can name the
-- exact file inside a model directory that was altered, removed or added.
ALTER TABLE lineage.artifacts ADD COLUMN files jsonb;

CREATE TABLE lineage.audits (
    id          bigserial PRIMARY KEY,
    run_id      bigint NOT NULL REFERENCES lineage.runs (id) ON DELETE CASCADE,
    verdict     text NOT NULL CHECK (verdict IN ('reproduced', 'within-tolerance', 'diverged', 'tampered', 'incomplete')),
    report      jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audits_run ON lineage.audits (run_id, created_at DESC);
