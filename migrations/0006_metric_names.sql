-- One metric naming scheme: snake_case words, '/' between a group and its member (weight/llama,
-- bpb/teacher/qwen, blend/top1). Rows recorded under the earlier names (weight:llama, bpb:student,
-- bpb:teacher llama, blend:top1_agreement, eval_bits_per_byte) are renamed so old runs chart and
-- compare with new ones. Teacher names contain no ':' or ' ', so each rule touches only its prefix.
UPDATE lineage.metrics SET name = 'weight/' || substr(name, 8) WHERE name LIKE 'weight:%';
UPDATE lineage.metrics SET name = 'coverage/' || substr(name, 10) WHERE name LIKE 'coverage:%';
UPDATE lineage.metrics SET name = 'bpb/teacher/' || substr(name, 13) WHERE name LIKE 'bpb:teacher %';
UPDATE lineage.metrics SET name = 'bpb/student_initial' WHERE name = 'bpb:student (initial)';
UPDATE lineage.metrics SET name = replace(name, 'bpb:', 'bpb/') WHERE name LIKE 'bpb:%';
UPDATE lineage.metrics SET name = 'blend/top1' WHERE name = 'blend:top1_agreement';
UPDATE lineage.metrics SET name = 'blend/kl' WHERE name = 'blend:kl';
UPDATE lineage.metrics SET name = 'eval_bpb' WHERE name = 'eval_bits_per_byte';
