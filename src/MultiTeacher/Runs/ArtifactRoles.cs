namespace MultiTeacher.Runs;

/// <summary>The role names lineage gives a run's teacher inputs and teacher caches, shared by the recorder, the trainer, the export and the dashboard.</summary>
public static class ArtifactRoles
{
    private const string TeacherPrefix = "teacher:", CachePrefix = "cache:", StagePrefix = "stage:";

    public static string Teacher(string name) => TeacherPrefix + name;
    public static string Cache(string teacher) => CachePrefix + teacher;
    /// <summary>A pipeline run's role for what its stage NAME made.</summary>
    public static string Stage(string name) => StagePrefix + name;

    /// <summary>The teacher a role names ("llama" of teacher:llama), or null for any other role.</summary>
    public static string? TeacherOf(string role) => role.StartsWith(TeacherPrefix, StringComparison.Ordinal) ? role[TeacherPrefix.Length..] : null;

    /// <summary>The teacher whose cache a role names ("llama" of cache:llama), or null for any other role.</summary>
    public static string? CacheOf(string role) => role.StartsWith(CachePrefix, StringComparison.Ordinal) ? role[CachePrefix.Length..] : null;
}
