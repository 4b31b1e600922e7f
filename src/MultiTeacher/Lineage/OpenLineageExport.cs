using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MultiTeacher.Runs;

namespace MultiTeacher.Lineage;

/// <summary>
/// A run as OpenLineage RunEvents (spec 2-0-2), one JSON object per line: START and COMPLETE/FAIL/ABORT
/// for the run as a job named after its recipe, and the same pair for each stage with a parent facet
/// pointing at the run. Inputs and outputs are file datasets whose version facet is their sha256, so
/// catalogues (Marquez, DataHub, OpenMetadata) see exactly which content each run used and made.
/// </summary>
public static class OpenLineageExport
{
    public const string Producer = "https://github.com/multiteacher/multiteacher";
    private const string Schema = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent";
    public const string Namespace = "multiteacher";

    public static IReadOnlyList<JsonObject> Events(LineageStore store, long runId)
    {
        var run = store.Run(runId) ?? throw new ArgumentException($"run {runId} does not exist");
        var artifacts = store.Artifacts(runId);
        var inputs = artifacts.Where(a => a.Direction == "used").Select(Dataset).ToArray();
        var outputs = artifacts.Where(a => a.Direction == "produced").Select(Dataset).ToArray();
        var runUuid = RunUuid(runId, run.CreatedAt);
        var events = new List<JsonObject> { Event("START", run.CreatedAt, runUuid, run.Recipe, null, inputs, []) };
        foreach (var stage in store.Stages(runId).Where(s => s.StartedAt is not null))
        {
            var stageUuid = RunUuid(runId, run.CreatedAt, $"{Spelling.Of(stage.Kind)}/{stage.Name}");
            var job = $"{run.Recipe}.{Spelling.Of(stage.Kind)}.{stage.Name}";
            var parent = new JsonObject
            {
                ["_producer"] = Producer,
                ["_schemaURL"] = "https://openlineage.io/spec/facets/1-1-0/ParentRunFacet.json#/$defs/ParentRunFacet",
                ["run"] = new JsonObject { ["runId"] = runUuid },
                ["job"] = new JsonObject { ["namespace"] = Namespace, ["name"] = run.Recipe },
            };
            var (stageInputs, stageOutputs) = StageDatasets(stage.Kind, stage.Name, artifacts);
            events.Add(Event("START", stage.StartedAt!.Value, stageUuid, job, parent, stageInputs, []));
            if (Ended(stage.Status) is { } type) events.Add(Event(type, stage.FinishedAt ?? stage.StartedAt.Value, stageUuid, job, parent, stageInputs, stageOutputs));
        }
        if (Ended(run.Status) is { } end) events.Add(Event(end, run.FinishedAt ?? run.CreatedAt, runUuid, run.Recipe, null, inputs, outputs, run.Error));
        return events;
    }

    public static string ToJsonLines(IEnumerable<JsonObject> events) =>
        string.Join("\n", events.Select(e => e.ToJsonString(new JsonSerializerOptions { WriteIndented = false }))) + "\n";

    private static string? Ended(RunStatus status) => status switch
    {
        RunStatus.Succeeded => "COMPLETE",
        RunStatus.Failed => "FAIL",
        RunStatus.Cancelled => "ABORT",
        _ => null,
    };

    private static string? Ended(StageStatus status) => status switch
    {
        StageStatus.Succeeded => Ended(RunStatus.Succeeded),
        StageStatus.Failed => Ended(RunStatus.Failed),
        StageStatus.Cancelled => Ended(RunStatus.Cancelled),
        _ => null,
    };

    private static JsonObject Event(string type, DateTime time, string runUuid, string job, JsonObject? parent, JsonNode[] inputs, JsonNode[] outputs, string? error = null)
    {
        var facets = new JsonObject();
        if (parent is not null) facets["parent"] = parent.DeepClone();
        if (error is not null && type == "FAIL")
            facets["errorMessage"] = new JsonObject
            {
                ["_producer"] = Producer,
                ["_schemaURL"] = "https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet",
                ["message"] = error,
                ["programmingLanguage"] = "C#",
            };
        return new JsonObject
        {
            ["eventType"] = type,
            ["eventTime"] = DateTime.SpecifyKind(time, DateTimeKind.Utc).ToString("yyyy-MM-ddTHH:mm:ss.fffZ"),
            ["run"] = new JsonObject { ["runId"] = runUuid, ["facets"] = facets },
            ["job"] = new JsonObject { ["namespace"] = Namespace, ["name"] = job },
            ["inputs"] = new JsonArray(inputs.Select(i => i.DeepClone()).ToArray()),
            ["outputs"] = new JsonArray(outputs.Select(o => o.DeepClone()).ToArray()),
            ["producer"] = Producer,
            ["schemaURL"] = Schema,
        };
    }

    /// <summary>
    /// What a stage read and made. A cache-teacher stage reads its teacher and makes the teacher's cache
    /// (which the run then uses); the cache carries a facet naming that teacher and its dataset.
    /// </summary>
    private static (JsonNode[] Inputs, JsonNode[] Outputs) StageDatasets(StageKind kind, string name, IReadOnlyList<RunArtifact> artifacts)
    {
        if (kind != StageKind.CacheTeacher) return ([], []);
        name = CacheStages.TeacherOf(name);
        var teachers = artifacts.Where(a => a.Direction == "used" && a.Role == ArtifactRoles.Teacher(name)).DistinctBy(a => a.Path).ToList();
        var caches = artifacts.Where(a => a.Kind == "cache" && a.Role == ArtifactRoles.Cache(name)).DistinctBy(a => a.Path).Select(a =>
        {
            var cache = Dataset(a);
            cache["facets"]!["multiteacher_teacher"] = new JsonObject
            {
                ["_producer"] = Producer,
                ["_schemaURL"] = $"{Producer}/blob/main/docs/lineage-and-jobs.md#teacher-facet",
                ["name"] = name,
                ["datasets"] = new JsonArray([.. teachers.Select(t => (JsonNode)new JsonObject { ["namespace"] = DatasetNamespace, ["name"] = t.Path })]),
            };
            return cache;
        });
        return ([.. teachers.Select(Dataset)], [.. caches]);
    }

    private static string DatasetNamespace => $"file://{Environment.MachineName}";

    private static JsonObject Dataset(RunArtifact a) => new JsonObject
    {
        ["namespace"] = DatasetNamespace,
        ["name"] = a.Path,
        ["facets"] = new JsonObject
        {
            ["version"] = new JsonObject
            {
                ["_producer"] = Producer,
                ["_schemaURL"] = "https://openlineage.io/spec/facets/1-0-1/DatasetVersionDatasetFacet.json#/$defs/DatasetVersionDatasetFacet",
                ["datasetVersion"] = a.Sha256,
            },
            ["multiteacher_artifact"] = new JsonObject
            {
                ["_producer"] = Producer,
                ["_schemaURL"] = $"{Producer}/blob/main/docs/lineage-and-jobs.md#artifact-facet",
                ["kind"] = a.Kind,
                ["role"] = a.Role,
                ["sizeBytes"] = a.SizeBytes,
            },
        },
    };

    /// <summary>A stable UUID (version 5 layout, from sha256) per run, or per stage of a run, so repeated exports agree.</summary>
    private static string RunUuid(long runId, DateTime created, string part = "")
    {
        var bytes = SHA256.HashData(Encoding.UTF8.GetBytes($"multiteacher run {runId} {created:O} {part}"))[..16];
        bytes[6] = (byte)(bytes[6] & 0x0F | 0x50);
        bytes[8] = (byte)(bytes[8] & 0x3F | 0x80);
        return new Guid(bytes, bigEndian: true).ToString();
    }
}
