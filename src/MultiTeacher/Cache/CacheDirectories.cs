namespace MultiTeacher.Cache;

/// <summary>Where derived data lives by default: $MT_CACHE, else ~/.cache/multiteacher (projections/, teachers/).</summary>
public static class CacheDirectories
{
    public static string Root()
    {
        var root = Environment.GetEnvironmentVariable("MT_CACHE");
        return string.IsNullOrEmpty(root)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "multiteacher")
            : root;
    }

    public static string Projections => Path.Combine(Root(), "projections");
}
