namespace MultiTeacher.Tests.Lineage;

/// <summary>Downsampled metric series for charts, against a naive selection written here.</summary>
[Trait("Category", TestCategory.Database)]
[Collection("postgres")]
public sealed class MetricSeriesTests(PostgresFixture postgres)
{
    [Fact]
    public void LongSeries_KeepEveryKthStepAndTheLast_ShortSeriesStayWhole()
    {
        var db = postgres.NewDatabase();
        MultiTeacher.Lineage.Migrator.Apply(db);
        var store = new MultiTeacher.Lineage.LineageStore(db);
        var run = store.StartRun(store.RecordRecipe("series", "name: series"), 1, new Dictionary<string, string>());
        store.AppendMetrics(run, [.. Enumerable.Range(1, 1001).Select(s => (s * 2, "loss", 1.0 / s)), .. Enumerable.Range(1, 10).Select(s => (s, "ce", (double)s))]);

        var series = store.MetricSeries(run, maxPoints: 100);

        // Naive: the i-th point (1-based, in step order) stays when (i - 1) is a multiple of k = ceil(n / max), and the last always.
        var loss = Enumerable.Range(1, 1001).Select(s => (Step: s * 2, Value: 1.0 / s)).ToList();
        var k = (int)Math.Ceiling(1001 / 100.0);
        var expected = loss.Where((_, i) => i % k == 0 || i == loss.Count - 1).ToList();
        Assert.Equal(11, k);
        Assert.Equal(expected, series["loss"]);
        Assert.Equal((2, 1.0), series["loss"][0]);
        Assert.Equal((2002, 1.0 / 1001), series["loss"][^1]);
        Assert.Equal(Enumerable.Range(1, 10).Select(s => (s, (double)s)), series["ce"]);
    }
}
