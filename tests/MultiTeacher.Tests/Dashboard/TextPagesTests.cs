using MultiTeacher.Dashboard;

namespace MultiTeacher.Tests.Dashboard;

[Trait("Category", TestCategory.Unit)]
public sealed class TextPagesTests
{
    [Fact]
    public void Pages_CoverTheTextInOrder_EndAtWhitespace_AndStayWithinTheSize()
    {
        var text = string.Join(' ', Enumerable.Range(0, 300).Select(i => new string((char)('a' + i % 26), 1 + i % 7)));
        var pages = TextPages.Split(text, 100);
        Assert.Equal(text, string.Concat(pages.Select(p => text.Substring(p.Start, p.Length))));
        Assert.All(pages.SkipLast(1), p => Assert.InRange(p.Length, 50, 100));
        Assert.All(pages.SkipLast(1), p => Assert.Equal(' ', text[p.Start + p.Length - 1]));
    }

    [Fact]
    public void Split_KeepsAShortTextWhole_GivesAnEmptyTextOnePage_AndCutsAWordWithoutSpaces()
    {
        Assert.Equal([(0, 5)], TextPages.Split("hello", 400));
        Assert.Equal([(0, 0)], TextPages.Split("", 400));
        Assert.Equal([(0, 10), (10, 10), (20, 5)], TextPages.Split(new string('x', 25), 10));
        // Worked by hand: "aaaa bbbb cccc" with size 8 ends the first page after "aaaa " (index 4 is the last space within 8).
        Assert.Equal([(0, 5), (5, 5), (10, 4)], TextPages.Split("aaaa bbbb cccc", 8));
    }
}
