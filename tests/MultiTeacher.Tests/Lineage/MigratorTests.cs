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

    [Fact]
    public void MetricNamesMigration_RenamesEarlierRows_ToTheOneScheme()
    {
        var db = postgres.NewDatabase();
        var all = Migrator.Embedded();
        Migrator.Apply(db, [.. all.Where(m => m.Version <= 5)]);
        var store = new LineageStore(db);
        var run = store.StartRun(store.RecordRecipe("old", "name: old\n"), 1, new Dictionary<string, string>());
        var earlier = new[]
        {
            "loss", "weight:Llama-3.2_x", "coverage:qwen", "bpb:student", "bpb:student (initial)", "bpb:teacher Llama-3.2_x",
            "bpb:heldout_press", "blend:top1_agreement", "blend:kl", "eval_bits_per_byte",
        };
        store.AppendMetrics(run, [.. earlier.Select((name, k) => (3, name, (double)k))]);
        Assert.Equal(1, Migrator.Apply(db, [.. all.Where(m => m.Version <= 6)]));
        var renamed = store.Metrics(run).ToDictionary(m => m.Key.Name, m => m.Value);
        Assert.Equal(new Dictionary<string, double>
        {
            ["loss"] = 0, ["weight/Llama-3.2_x"] = 1, ["coverage/qwen"] = 2, ["bpb/student"] = 3, ["bpb/student_initial"] = 4,
            ["bpb/teacher/Llama-3.2_x"] = 5, ["bpb/heldout_press"] = 6, ["blend/top1"] = 7, ["blend/kl"] = 8, ["eval_bpb"] = 9,
        }, renamed);
    }
}
