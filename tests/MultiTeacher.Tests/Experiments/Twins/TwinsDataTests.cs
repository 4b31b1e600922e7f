using MultiTeacher.Experiments.Twins;

namespace MultiTeacher.Tests.Experiments.Twins;

[Trait("Category", TestCategory.Unit)]
public sealed class TwinsDataTests : TempDirectoryTest
{
    [Fact]
    public void Split_PutsEveryDocumentInOneSplitAtMost_TestLast()
    {
        var brown = TestAssets.Store.Require("corpora/brown");
        var splits = TwinsData.Write(brown, TempDir);
        Assert.Equal(["press", "learned", "fiction"], splits.Select(s => s.Genre));
        foreach (var s in splits)
        {
            var ids = s.Train.Concat(s.Validation).Concat(s.Test).Select(d => d.Id).ToList();
            Assert.Equal(ids.Count, ids.Distinct().Count());
            Assert.Equal((TwinsData.ValidationDocuments, TwinsData.TestDocuments), (s.Validation.Count, s.Test.Count));
            var all = MultiTeacher.Corpora.BrownCorpus.Read(brown, s.Test[0].GenreCode.ToString()).Select(d => d.Id).ToList();
            Assert.Equal(all.TakeLast(TwinsData.TestDocuments), s.Test.Select(d => d.Id));
            var text = File.ReadAllText(Path.Combine(TwinsData.Directory(TempDir), $"{s.Genre}.txt"));
            Assert.All(s.Validation.Concat(s.Test), d => Assert.DoesNotContain(d.Text[..200], text));
        }
        // The students' text: training documents only, the three genres in turn, cut at a paragraph end within the budget.
        var mixed = File.ReadAllText(Path.Combine(TwinsData.Directory(TempDir), "mixed.txt"));
        Assert.InRange(mixed.Length, TwinsData.MixedCharacters - 20_000, TwinsData.MixedCharacters);
        var paragraphs = mixed.Split("\n\n");
        var train = splits.SelectMany(s => s.Train).SelectMany(d => d.Text.Split("\n\n")).ToHashSet();
        Assert.All(paragraphs, p => Assert.Contains(p, train));
        Assert.StartsWith(splits[0].Train[0].Text + "\n\n" + splits[1].Train[0].Text + "\n\n" + splits[2].Train[0].Text, mixed);
    }
}
