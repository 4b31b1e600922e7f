using MultiTeacher.Cache;
using MultiTeacher.Lineage;

namespace MultiTeacher.Tests;

[Trait("Category", TestCategory.Unit)]
public sealed class TestDataDirectoryTests
{
    [Fact]
    public void TheTestRun_UsesItsOwnDataDirectoryDatabaseAndCaches_NeverTheUsersDefaults()
    {
        var users = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share", "multiteacher");
        var own = Path.GetFullPath(TestDataDirectory.Root) + Path.DirectorySeparatorChar;
        Assert.StartsWith(own, EmbeddedPostgres.Default().Root);
        Assert.StartsWith(own, CacheDirectories.Root());
        Assert.DoesNotContain(EmbeddedPostgres.Default().Root, new[] { Path.Combine(users, "postgres"), "/var/lib/multiteacher/postgres" });
        Assert.True(string.IsNullOrEmpty(Environment.GetEnvironmentVariable("MT_DATABASE")));
        Assert.NotEqual(TestDataDirectory.UsersData, Environment.GetEnvironmentVariable("MT_DATA"));
    }
}
