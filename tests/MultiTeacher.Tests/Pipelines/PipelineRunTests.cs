using System.Text.Json;
using MultiTeacher.Lineage;
using MultiTeacher.Recipes;
using MultiTeacher.Runs;
using MultiTeacher.Tests.Cli;
using MultiTeacher.Tests.Integration;
using MultiTeacher.Tests.Lineage;

namespace MultiTeacher.Tests.Pipelines;

/// <summary>
/// A tiny SuperNova-shaped pipeline through the real CLI: transplant to another vocabulary,
/// fine-tune, transplant back, merge with the original, evaluate; lineage chains every stage from
/// the first model to the merge, and a stage replays under `mt audit`.
/// </summary>
[Trait("Category", TestCategory.Database)]
[Collection("postgres")]
public sealed class PipelineRunTests(PostgresFixture postgres) : TempDirectoryTest
{
    [Fact]
    public void TinyPipeline_RunsEveryStageInOrder_AndLineageChainsTheFirstModelToTheLast()
    {
        var db = postgres.NewDatabase();
        var runs = new TinyRuns(TempDir);
        runs.WriteData(trainDocuments: 2, trainChars: 2000);
        var origin = runs.WriteTeacher("origin", "mistral", "mistral-7b-v0.1", 32000, seed: 3);
        var path = Path.Combine(TempDir, "pipeline.yaml");
        File.WriteAllText(path, $$"""
            name: tiny
            seed: 4
            output: out
            stages:
              - name: heldout
                kind: evaluate
                evaluate:
                  max_bytes: 1500
                  models:
                    - { name: origin, path: {{origin}} }
                    - { name: merged, path: "${stages.merged.output}" }
                  texts:
                    - { name: eval, path: eval.txt }
              - name: to_llama
                kind: transplant
                transplant: { model: {{origin}}, tokenizer: {{TestAssets.TokenizerDir("llama3")}}, method: mean }
              - name: tuned
                kind: finetune
                finetune:
                  device: cpu
                  data: { train: train.txt, seq_len: 32 }
                  student:
                    init: ${stages.to_llama.output}
                  train: { steps: 2, batch_size: 2, lr: 0.003 }
                  eval: { max_bytes: 1000 }
              - name: back
                kind: transplant
                transplant:
                  model: ${stages.tuned.output}
                  tokenizer: {{origin}}
                  method: omp
                  k: 4
              - name: merged
                kind: merge
                merge:
                  method: linear
                  models:
                    - { model: "${stages.back.output}", weight: 0.5 }
                    - { model: {{origin}}, weight: 0.5 }
            """);

        var (code, output, error) = CliRunner.Run("", "run", path, "--database", db);
        Assert.True(code == 0, error + output);
        Assert.Contains("pipeline tiny: to_llama (transplant) → tuned (finetune) → back (transplant) → merged (merge) → heldout (evaluate)", output);

        var store = new LineageStore(db);
        var pipelineRun = store.Runs().Single(r => r.Recipe == "tiny");
        Assert.Equal(RunStatus.Succeeded, pipelineRun.Status);
        var stages = store.PipelineStages(pipelineRun.Id).ToDictionary(s => s.Name);
        Assert.All(stages.Values, s => Assert.Equal(StageStatus.Succeeded, s.Status));
        Assert.Equal([StageKind.Transplant, StageKind.Finetune, StageKind.Transplant, StageKind.Merge, StageKind.Evaluate],
            new[] { "to_llama", "tuned", "back", "merged", "heldout" }.Select(n => stages[n].Kind));
        // Each stage started only after the stage it reads had finished.
        var timing = store.Stages(pipelineRun.Id).ToDictionary(s => s.Name);
        foreach (var (stage, input) in new[] { ("tuned", "to_llama"), ("back", "tuned"), ("merged", "back"), ("heldout", "merged") })
            Assert.True(timing[stage].StartedAt >= timing[input].FinishedAt, $"{stage} started before {input} finished");

        // The merge's upstream reaches back through every stage run to the original model.
        var (lineageCode, lineage, _) = CliRunner.Run("", "lineage", stages["merged"].StageRun!.Value.ToString(), "--json", "--database", db);
        Assert.Equal(0, lineageCode);
        var upstream = Labels(JsonDocument.Parse(lineage).RootElement.GetProperty("upstream")).ToList();
        foreach (var stage in new[] { "back", "tuned", "to_llama" })
            Assert.True(upstream.Any(l => l.StartsWith($"run {stages[stage].StageRun} tiny.{stage} (succeeded)", StringComparison.Ordinal)), string.Join("\n", upstream));
        Assert.Contains(upstream, l => l.StartsWith("transplant.model: model ", StringComparison.Ordinal) && l.EndsWith(" " + origin, StringComparison.Ordinal));
        var produced = store.Artifacts(stages["to_llama"].StageRun!.Value).Single(a => a.Direction == "produced");
        Assert.Equal(ContentHash.Of(Path.Combine(TempDir, "out", "to_llama", "model")), produced.Sha256);
        Assert.Contains(store.Artifacts(stages["tuned"].StageRun!.Value), a => a.Direction == "used" && a.Role == "student.init" && a.Sha256 == produced.Sha256);

        // The evaluation's figures are recorded with its run and printed.
        var figures = store.MetricSummary(stages["heldout"].StageRun!.Value).Select(m => m.Name).ToList();
        Assert.Equal(["bpb/merged/heldout_all", "bpb/merged/heldout_eval", "bpb/origin/heldout_all", "bpb/origin/heldout_eval"], figures.Order(StringComparer.Ordinal));
        var mergedAll = store.MetricSummary(stages["heldout"].StageRun!.Value).Single(m => m.Name == "bpb/merged/heldout_all").Last;
        Assert.InRange(mergedAll, 1.0, 30.0);
        Assert.Contains(mergedAll.ToString("F4", System.Globalization.CultureInfo.InvariantCulture), output);

        // A transplant stage replays bit-identically; a pipeline run names its stages' runs instead.
        var (auditCode, audit, auditError) = CliRunner.Run("", "audit", stages["back"].StageRun!.Value.ToString(), "--database", db);
        Assert.True(auditCode == 0, audit + auditError);
        Assert.Contains("reproduced", audit);
        var (pipelineAudit, _, pipelineError) = CliRunner.Run("", "audit", pipelineRun.Id.ToString(), "--database", db);
        Assert.Equal(2, pipelineAudit);
        Assert.Contains($"back: run {stages["back"].StageRun}", pipelineError);
    }

    private static IEnumerable<string> Labels(JsonElement node)
    {
        yield return node.GetProperty("label").GetString()!;
        foreach (var child in node.GetProperty("children").EnumerateArray())
            foreach (var label in Labels(child)) yield return label;
    }
}
