using System.Text.RegularExpressions;
using MultiTeacher.Lineage;
using MultiTeacher.Runs;
using MultiTeacher.Tests.Lineage;
using Npgsql;

namespace MultiTeacher.Tests.Runs;

[Trait("Category", TestCategory.Database)]
[Collection("postgres")]
public sealed class SpellingTests(PostgresFixture postgres)
{
    [Fact]
    public void EnumMembers_AreSpelledInKebabCase_AndParsedBack()
    {
        Assert.Equal("cache-teacher", Spelling.Of(StageKind.CacheTeacher));
        Assert.Equal("bad-input", Spelling.Of(RunFailure.BadInput));
        Assert.Equal("succeeded", Spelling.Of(RunStatus.Succeeded));
        Assert.Equal(StageStatus.Pending, Spelling.Parse<StageStatus>("pending"));
        foreach (var kind in Enum.GetValues<StageKind>()) Assert.Equal(kind, Spelling.Parse<StageKind>(Spelling.Of(kind)));
        Assert.Contains("'Succeeded' is not a RunStatus", Assert.Throws<InvalidDataException>(() => Spelling.Parse<RunStatus>("Succeeded")).Message);
    }

    [Fact]
    public void EverySpelling_IsExactlyWhatTheMigrationsAllow()
    {
        var db = postgres.NewDatabase();
        Migrator.Apply(db);
        Assert.Equal(Allowed(db, "runs", "status"), Spelling.All<RunStatus>().Order());
        Assert.Equal(Allowed(db, "runs", "failure"), Spelling.All<RunFailure>().Order());
        Assert.Equal(Allowed(db, "stages", "status"), Spelling.All<StageStatus>().Order());
        Assert.Equal(Allowed(db, "stages", "kind"), Spelling.All<StageKind>().Order());
    }

    [Fact]
    public void RunsRecordedWithEachStatus_ReadBackAsThatStatus()
    {
        var db = postgres.NewDatabase();
        Migrator.Apply(db);
        var store = new LineageStore(db);
        var recipe = store.RecordRecipe("spelled", "name: spelled");
        foreach (var status in Enum.GetValues<RunStatus>())
            Assert.Equal(status, store.Run(store.StartRun(recipe, 1, new Dictionary<string, string>(), status))!.Status);
    }

    /// <summary>The values the CHECK constraint of a lineage column lists, read from the database itself.</summary>
    private static IEnumerable<string> Allowed(string db, string table, string column)
    {
        using var c = new NpgsqlConnection(db);
        c.Open();
        using var command = new NpgsqlCommand("""
            SELECT pg_get_constraintdef(k.oid) FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid
            JOIN pg_namespace n ON n.oid = t.relnamespace
            WHERE n.nspname = 'lineage' AND t.relname = $1 AND k.contype = 'c' AND pg_get_constraintdef(k.oid) LIKE '%(' || $2 || ' %'
            """, c) { Parameters = { new() { Value = table }, new() { Value = column } } };
        var definition = (string)command.ExecuteScalar()!;
        return Regex.Matches(definition, "'([a-z-]+)'::text").Select(m => m.Groups[1].Value).Order().ToList();
    }
}
