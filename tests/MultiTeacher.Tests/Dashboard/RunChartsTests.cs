using MultiTeacher.Dashboard.Charts;
using MultiTeacher.Reporting;

namespace MultiTeacher.Tests.Dashboard;

/// <summary>The chart data the dashboard's JSON endpoints serve, from hand-written series.</summary>
[Trait("Category", TestCategory.Unit)]
public sealed class RunChartsTests
{
    private static RunSeries Run(long id, params (string Name, (int, double)[] Points)[] series) =>
        new(id, series.ToDictionary(s => s.Name, s => (IReadOnlyList<(int Step, double Value)>)[.. s.Points]));

    private static readonly TeacherPalette Palette = new(["press", "fiction"]);

    [Fact]
    public void OneRun_EachLossComponentHasItsOwnChart_TeachersTheirColour_AndHeldOutIsOneBarPerModel()
    {
        var run = Run(7,
            ("loss", [(1, 3.0), (2, 2.5)]), ("ce", [(1, 4.0), (2, 3.5)]), ("kd", [(1, 2.0), (2, 1.5)]),
            ("lr", [(1, 1e-3), (2, 5e-4)]), ("grad_norm", [(1, 0.9), (2, 0.7)]),
            ("weight/fiction", [(1, 0.4), (2, 0.3)]), ("weight/press", [(1, 0.6), (2, 0.7)]),
            ("bpb/student", [(2, 1.25)]), ("bpb/teacher/press", [(2, 1.5)]));
        var charts = RunCharts.Build([run], Palette);
        Assert.Equal(["loss", "ce", "kd", "lr", "grad_norm", "weight", "bpb"], charts.Select(c => c.Id));
        Assert.All(charts.Take(5), c => Assert.Single(c.Series));
        Assert.Equal([3.0, 2.5], charts[0].Series[0].Values.Select(v => v!.Value));
        var weight = charts.Single(c => c.Id == "weight");
        Assert.Equal([("fiction", "#d62728"), ("press", "#1f77b4")], weight.Series.Select(s => (s.Label, s.Colour)));
        Assert.All(weight.Series, s => Assert.Null(s.Dash));
        var bars = charts.Single(c => c.Id == "bpb");
        Assert.Equal(ChartKind.Bars, bars.Kind);
        Assert.Equal(["student", "teacher/press"], bars.Categories!);
        Assert.Equal([1.25, null], bars.Series[0].Values);
        Assert.Equal([null, 1.5], bars.Series[1].Values);
        Assert.Equal(("#333333", "#1f77b4"), (bars.Series[0].Colour, bars.Series[1].Colour));
    }

    [Fact]
    public void TwoRuns_AlignOnTheUnionOfSteps_DashTheSecondRun_AndPutHeldOutBarsSideBySide()
    {
        var a = Run(1, ("loss", [(1, 3.0), (3, 2.0)]), ("weight/press", [(1, 1.0)]), ("bpb/student", [(3, 1.2)]));
        var b = Run(2, ("loss", [(2, 2.8), (3, 2.1)]), ("weight/press", [(2, 0.5)]), ("bpb/student", [(3, 1.1)]));
        var charts = RunCharts.Build([a, b], Palette);
        var loss = charts.Single(c => c.Id == "loss");
        Assert.Equal([1.0, 2.0, 3.0], loss.X);
        Assert.Equal([3.0, null, 2.0], loss.Series[0].Values);
        Assert.Equal([null, 2.8, 2.1], loss.Series[1].Values);
        Assert.Equal(["run 1 · loss", "run 2 · loss"], loss.Series.Select(s => s.Label));
        Assert.NotEqual(loss.Series[0].Colour, loss.Series[1].Colour);
        var weight = charts.Single(c => c.Id == "weight");
        Assert.All(weight.Series, s => Assert.Equal("#1f77b4", s.Colour));   // the teacher's colour in both runs
        Assert.Null(weight.Series[0].Dash);
        Assert.NotNull(weight.Series[1].Dash);
        var bars = charts.Single(c => c.Id == "bpb");
        Assert.Equal(["student\nrun 1", "student\nrun 2"], bars.Categories!);
        Assert.Equal([1.2, null], bars.Series[0].Values);
        Assert.Equal([null, 1.1], bars.Series[1].Values);
    }
}
