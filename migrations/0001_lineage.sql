-- Lineage: what went into every run and what came out of it.
-- Recipes are stored resolved (defaults filled in, paths absolute, input hashes), runs have their
-- stages, artifacts are content-addressed files, edges say which run used or produced which
-- artifact in which role, and metrics hold one value per run, step and name.
CREATE SCHEMA IF NOT EXISTS lineage;

CREATE TABLE lineage.recipes (
    id              bigserial PRIMARY KEY,
    content_sha256  text NOT NULL UNIQUE,
    name            text NOT NULL,
    resolved_yaml   text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE lineage.runs (
    id           bigserial PRIMARY KEY,
    recipe_id    bigint NOT NULL REFERENCES lineage.recipes (id),
    status       text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    seed         bigint NOT NULL,
    host         text,
    environment  jsonb NOT NULL DEFAULT '{}'::jsonb,   -- .NET, TorchSharp, libtorch, device, threads, git commit
    created_at   timestamptz NOT NULL DEFAULT now(),
    started_at   timestamptz,
    finished_at  timestamptz,
    error        text
);
CREATE INDEX runs_status ON lineage.runs (status, created_at DESC);

CREATE TABLE lineage.stages (
    id           bigserial PRIMARY KEY,
    run_id       bigint NOT NULL REFERENCES lineage.runs (id) ON DELETE CASCADE,
    kind         text NOT NULL CHECK (kind IN ('cache-teacher', 'train', 'eval', 'save')),
    name         text NOT NULL,
    status       text NOT NULL CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'cancelled')),
    started_at   timestamptz,
    finished_at  timestamptz,
    UNIQUE (run_id, kind, name)
);

CREATE TABLE lineage.artifacts (
    id          bigserial PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('recipe', 'tokenizer', 'teacher', 'dataset', 'projection', 'cache', 'checkpoint', 'student')),
    sha256      text NOT NULL,
    size_bytes  bigint NOT NULL CHECK (size_bytes >= 0),
    path        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (kind, sha256, path)
);
CREATE INDEX artifacts_sha256 ON lineage.artifacts (sha256);

CREATE TABLE lineage.edges (
    run_id       bigint NOT NULL REFERENCES lineage.runs (id) ON DELETE CASCADE,
    artifact_id  bigint NOT NULL REFERENCES lineage.artifacts (id),
    direction    text NOT NULL CHECK (direction IN ('used', 'produced')),
    role         text NOT NULL,                         -- e.g. teacher:press-llama3, data.train, student
    PRIMARY KEY (run_id, artifact_id, direction, role)
);
CREATE INDEX edges_artifact ON lineage.edges (artifact_id, direction);

CREATE TABLE lineage.metrics (
    run_id  bigint NOT NULL REFERENCES lineage.runs (id) ON DELETE CASCADE,
    step    integer NOT NULL,
    name    text NOT NULL,
    value   double precision NOT NULL,
    PRIMARY KEY (run_id, step, name)
);
