using MultiTeacher.Lineage;
using Npgsql;

namespace MultiTeacher.Tests.Lineage;

[Trait("Category", TestCategory.Database)]
[Collection("postgres")]
public sealed class MigratorTests(PostgresFixture postgres)
{
    private static object? Scalar(string connectionString, string sql)
    {
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        return new NpgsqlCommand(sql, connection).ExecuteScalar();
    }

    [Fact]
    public void Migrations_ApplyToAnEmptyDatabase_AndReRunAsNoOp()
    {
        var db = postgres.NewDatabase();
        Assert.Equal(Migrator.Embedded().Count, Migrator.Apply(db));
        Assert.Equal(0, Migrator.Apply(db));
        foreach (var table in new[] { "recipes", "runs", "stages", "artifacts", "edges", "metrics" })
            Assert.Equal(1L, Scalar(db, $"SELECT count(*) FROM information_schema.tables WHERE table_schema = 'lineage' AND table_name = '{table}'"));
        Assert.Equal((long)Migrator.Embedded().Count, Scalar(db, "SELECT count(*) FROM mt.schema_journal"));
    }

    [Fact]
    public void DatabaseNewerThanTheCode_IsRefused()
    {
        var db = postgres.NewDatabase();
        Migrator.Apply(db);
        Scalar(db, "INSERT INTO mt.schema_journal (version, name, sha256) VALUES (9999, 'future', 'x')");
        var e = Assert.Throws<MigrationException>(() => Migrator.Apply(db));
        Assert.Contains("newer than this code", e.Message);
    }

    [Fact]
    public void EditedMigration_IsDetected_AndAFailedMigrationLeavesNothingBehind()
    {
        var db = postgres.NewDatabase();
        var first = Migrator.Embedded()[0];
        Migrator.Apply(db, [first]);
        Assert.Throws<MigrationException>(() => Migrator.Apply(db, [first with { Sql = first.Sql + "\n-- edited" }]));

        var broken = new Migration(first.Version + 1, "broken", "CREATE TABLE lineage.half_done (x int); SELECT no_such_function();");
        Assert.ThrowsAny<PostgresException>(() => Migrator.Apply(db, [first, broken]));
        Assert.Equal(0L, Scalar(db, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'half_done'"));
        Assert.Equal(1L, Scalar(db, "SELECT count(*) FROM mt.schema_journal"));
    }

    [Fact]
    public void Server_SurvivesARestart_WithItsData()
    {
        var db = postgres.NewDatabase();
        Migrator.Apply(db);
        postgres.Server.Stop();
        Assert.False(postgres.Server.IsRunning);
        postgres.Server.EnsureRunning();
        Assert.True(postgres.Server.IsRunning);
        Assert.Equal(0, Migrator.Apply(db));
    }
}
