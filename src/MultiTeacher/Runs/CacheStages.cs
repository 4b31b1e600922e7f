namespace MultiTeacher.Runs;

/// <summary>
/// Names of cache-teacher stages: the teacher's name for a cache in one shard, TEACHER/N for shard
/// N of a sharded one. Teacher names cannot hold a '/', so the teacher is always recoverable.
/// </summary>
public static class CacheStages
{
    public static string Name(string teacher, int shard, int shards) => shards == 1 ? teacher : Shard(teacher, shard);

    /// <summary>The stage of shard <paramref name="shard"/> of a cache in several.</summary>
    public static string Shard(string teacher, int shard) => $"{teacher}/{shard}";

    /// <summary>The teacher a cache-teacher stage works for ("llama" of llama/3).</summary>
    public static string TeacherOf(string stage) => stage.Split('/')[0];
}
