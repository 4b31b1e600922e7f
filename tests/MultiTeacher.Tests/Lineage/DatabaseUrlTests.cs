using MultiTeacher.Lineage;
using Npgsql;

namespace MultiTeacher.Tests.Lineage;

[Trait("Category", TestCategory.Unit)]
public sealed class DatabaseUrlTests
{
    [Fact]
    public void Url_GivesHostPortUserEscapedPasswordDatabaseAndTls()
    {
        var b = new NpgsqlConnectionStringBuilder(DatabaseUrl.ToConnectionString("postgresql://mt:p%40ss%3Aw%2Fd@db.example:6543/lineage?sslmode=verify-full&sslrootcert=/etc/ca.pem"));
        Assert.Equal(("db.example", 6543, "mt", "p@ss:w/d", "lineage"), (b.Host, b.Port, b.Username, b.Password, b.Database));
        Assert.Equal((SslMode.VerifyFull, "/etc/ca.pem"), (b.SslMode, b.RootCertificate));
    }

    [Fact]
    public void UrlWithoutPortOrPassword_TakesPostgresPortAndLeavesThePasswordToPgpassword()
    {
        var b = new NpgsqlConnectionStringBuilder(DatabaseUrl.ToConnectionString("postgres://mt@10.0.0.5/lineage"));
        Assert.Equal(("10.0.0.5", 5432, "mt", null, "lineage"), (b.Host, b.Port, b.Username, b.Password, b.Database));
    }

    [Fact]
    public void TheEmbeddedServersTlsUrl_ReadsBackAsVerifyFullAgainstItsCertificate_EvenWithSpacesAndAmpersandsInThePath()
    {
        var server = new EmbeddedPostgres("/srv/mt db&co", port: 6001);
        var url = server.TcpUrl("head", tls: true);
        Assert.Equal("postgresql://multiteacher@head:6001/multiteacher?sslmode=verify-full&sslrootcert=/srv/mt%20db%26co/data/server.crt", url);
        var b = new NpgsqlConnectionStringBuilder(DatabaseUrl.ToConnectionString(url));
        Assert.Equal(("head", 6001, SslMode.VerifyFull, "/srv/mt db&co/data/server.crt"), (b.Host, b.Port, b.SslMode, b.RootCertificate));
        Assert.Equal("postgresql://multiteacher@[::1]:6001/multiteacher", server.TcpUrl("::1", tls: false));
    }

    [Fact]
    public void ConnectionString_PassesUnchanged()
    {
        const string cs = "Host=/tmp/pg;Port=5;Username=u;Database=d";
        Assert.Equal(cs, DatabaseUrl.ToConnectionString(cs));
    }

    [Theory]
    [InlineData("postgresql://mt:secret@host/lineage?sslmode=sometimes", "sslmode 'sometimes'")]
    [InlineData("postgresql://mt:secret@host/lineage?timeout=5", "unknown parameter 'timeout'")]
    [InlineData("postgresql://mt:secret@host", "mt:***@host")]
    public void BadUrl_IsBadInput_WithoutShowingThePassword(string url, string expected)
    {
        var e = Assert.Throws<BadInputException>(() => DatabaseUrl.ToConnectionString(url));
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain("secret", e.Message);
    }
}
