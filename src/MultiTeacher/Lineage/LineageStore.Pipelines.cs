using MultiTeacher.Runs;

namespace MultiTeacher.Lineage;

/// <summary>A pipeline stage as lineage holds it: its row in the pipeline run, and the run that executed it (null until it has).</summary>
public sealed record PipelineStageRecord(StageKind Kind, string Name, StageStatus Status, long? StageRun);

public sealed partial class LineageStore
{
    /// <summary>A pipeline run's stages in order, each with the lineage run that executed it.</summary>
    public IReadOnlyList<PipelineStageRecord> PipelineStages(long runId)
    {
        using var c = Open();
        using var reader = Command(c, "SELECT kind, name, status, stage_run FROM lineage.stages WHERE run_id = $1 ORDER BY id", runId).ExecuteReader();
        var result = new List<PipelineStageRecord>();
        while (reader.Read())
            result.Add(new PipelineStageRecord(Spelling.Parse<StageKind>(reader.GetString(0)), reader.GetString(1), Spelling.Parse<StageStatus>(reader.GetString(2)),
                reader.IsDBNull(3) ? null : reader.GetInt64(3)));
        return result;
    }

    /// <summary>The pipeline run and stage name a stage run executed, or null when the run is no pipeline stage's.</summary>
    public (long PipelineRun, string Stage)? PipelineOf(long stageRun)
    {
        using var c = Open();
        using var reader = Command(c, "SELECT run_id, name FROM lineage.stages WHERE stage_run = $1", stageRun).ExecuteReader();
        return reader.Read() ? (reader.GetInt64(0), reader.GetString(1)) : null;
    }

    /// <summary>The seed a run recorded.</summary>
    public long Seed(long runId)
    {
        using var c = Open();
        return (long?)Command(c, "SELECT seed FROM lineage.runs WHERE id = $1", runId).ExecuteScalar() ?? throw new ArgumentException($"run {runId} does not exist");
    }
}
