using MultiTeacher.Reporting;

namespace MultiTeacher.Tests.Reporting;

[Trait("Category", TestCategory.Unit)]
public sealed class TeacherPaletteTests
{
    [Fact]
    public void ATeacher_KeepsItsColour_AcrossPalettesOfMoreTeachers_AndKnownTeachersDiffer()
    {
        var before = new TeacherPalette(["press", "learned"]);
        var after = new TeacherPalette(["press", "learned", "fiction"]);
        Assert.Equal(before.Colour("press"), after.Colour("press"));
        Assert.Equal(before.Colour("learned"), after.Colour("learned"));
        Assert.Equal(["#1f77b4", "#d62728", "#2ca02c"], new[] { "press", "learned", "fiction" }.Select(after.Colour));
        Assert.Equal(TeacherPalette.Colours.Length, TeacherPalette.Colours.Select(new TeacherPalette(TeacherPalette.Colours).Colour).Distinct().Count());
    }

    [Fact]
    public void AnUnknownTeacher_GetsTheSameColourEveryTime()
    {
        Assert.Equal(new TeacherPalette([]).Colour("newcomer"), new TeacherPalette(["other"]).Colour("newcomer"));
        Assert.Contains(new TeacherPalette([]).Colour("newcomer"), TeacherPalette.Colours);
    }
}
