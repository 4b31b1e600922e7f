namespace MultiTeacher.Lineage;

/// <summary>Finds the lineage database and brings its schema up to date: the one given, else mt's private server.</summary>
public static class LineageDatabase
{
    /// <summary>
    /// The connection string of --database (<paramref name="explicitConnection"/>), else $MT_DATABASE,
    /// else the private server (started on demand); migrated before it is returned.
    /// </summary>
    public static string Connect(string? explicitConnection)
    {
        var connection = explicitConnection ?? System.Environment.GetEnvironmentVariable("MT_DATABASE");
        if (string.IsNullOrEmpty(connection)) connection = EmbeddedPostgres.Default().EnsureRunning();
        Migrator.Apply(connection);
        return connection;
    }
}
