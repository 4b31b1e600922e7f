-- Pipelines: a pipeline run's stages are transplant, distill, merge, finetune and evaluate jobs.
-- Each stage executes as a lineage run of its own (stage_run), so what it used and produced is
-- recorded like any run's and one stage's output links to the next stage's input by its hash.
-- Transplanted and merged models are 'model' artifacts, an evaluate stage's figures 'evaluation'.
ALTER TABLE lineage.stages DROP CONSTRAINT stages_kind_check;
ALTER TABLE lineage.stages ADD CONSTRAINT stages_kind_check
    CHECK (kind IN ('cache-teacher', 'train', 'eval', 'save', 'transplant', 'distill', 'merge', 'finetune', 'evaluate'));
ALTER TABLE lineage.stages ADD COLUMN stage_run bigint REFERENCES lineage.runs (id);
ALTER TABLE lineage.artifacts DROP CONSTRAINT artifacts_kind_check;
ALTER TABLE lineage.artifacts ADD CONSTRAINT artifacts_kind_check
    CHECK (kind IN ('recipe', 'tokenizer', 'teacher', 'dataset', 'projection', 'cache', 'checkpoint', 'student', 'model', 'evaluation'));
