using MultiTeacher.Lineage;
using Npgsql;

namespace MultiTeacher.Tests.Lineage;

/// <summary>A real PostgreSQL for the lineage tests: private data directory and port, removed afterwards.</summary>
public sealed class PostgresFixture : IDisposable
{
    public EmbeddedPostgres Server { get; }
    private readonly string _root = Path.Combine(Path.GetTempPath(), "mt-pg-" + Guid.NewGuid().ToString("N")[..12]);

    public PostgresFixture()
    {
        Server = new EmbeddedPostgres(_root, port: 55000 + Random.Shared.Next(0, 4000));
        Server.EnsureRunning();
    }

    /// <summary>A fresh, empty database on the server, for one test.</summary>
    public string NewDatabase()
    {
        var name = "t_" + Guid.NewGuid().ToString("N")[..16];
        using var connection = new NpgsqlConnection(Server.ConnectionString("postgres"));
        connection.Open();
        new NpgsqlCommand($"CREATE DATABASE {name}", connection).ExecuteNonQuery();
        return Server.ConnectionString(name);
    }

    public void Dispose()
    {
        Server.Stop();
        Directory.Delete(_root, recursive: true);
    }
}

[CollectionDefinition("postgres")]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>;
