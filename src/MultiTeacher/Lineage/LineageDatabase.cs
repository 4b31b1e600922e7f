namespace MultiTeacher.Lineage;

/// <summary>Finds the lineage database and brings its schema up to date: the one given, else mt's private server.</summary>
public static class LineageDatabase
{
    /// <summary>
    /// The connection string (or postgresql:// URL, <see cref="DatabaseUrl"/>) of --database
    /// (<paramref name="explicitConnection"/>), else $MT_DATABASE, else the private server (started on
    /// demand, which <paramref name="notice"/>, default standard error, is told); migrated before it is returned.
    /// </summary>
    public static string Connect(string? explicitConnection, TextWriter? notice = null)
    {
        var connection = explicitConnection ?? System.Environment.GetEnvironmentVariable("MT_DATABASE");
        if (string.IsNullOrEmpty(connection))
        {
            var server = EmbeddedPostgres.Default();
            var wasRunning = server.IsRunning;
            connection = server.EnsureRunning();
            // The server outlives this process (later commands and workers share it): tell the person at
            // the terminal, and how to stop it; scripts reading standard error get only the command's own lines.
            if (!wasRunning && (notice is not null || !Console.IsErrorRedirected)) (notice ?? Console.Error).WriteLine($"mt: started the private PostgreSQL in {server.DataDirectory}; it keeps running for later commands (stop it with `mt db stop`)");
        }
        else connection = DatabaseUrl.ToConnectionString(connection);
        try { Migrator.Apply(connection); }
        catch (Npgsql.PostgresException e) when (e.SqlState.StartsWith("28", StringComparison.Ordinal))
        {
            // 28xxx: the server turned this client away (no pg_hba.conf line, wrong password): the URL is at fault, not the run.
            var hint = e.MessageText.EndsWith("no encryption", StringComparison.Ordinal) ? "; the server takes TLS connections only: add sslmode=verify-full with sslrootcert (or sslmode=require) to the URL" : "";
            throw new BadInputException($"the database refused the connection: {e.MessageText}{hint}", e);
        }
        catch (Npgsql.NpgsqlException e) when (e.InnerException is System.Security.Authentication.AuthenticationException)
        {
            throw new BadInputException("the database's TLS certificate did not verify: it is not the sslrootcert given, or the URL's host is not a name it holds", e);
        }
        return connection;
    }
}
