using MultiTeacher.Corpora;

namespace MultiTeacher.Tests.Corpora;

[Trait("Category", TestCategory.Unit)]
public class BrownCorpusTests
{
    [Fact]
    public void ToPlainText_DropsTags_AndReattachesPunctuationAndQuotes()
    {
        const string tagged = "\tThe/at jury/nn said/vbd ``/`` no/at evidence/nn ''/'' ,/, it's/pps+bez Atlanta's/np$ ./.\n";
        Assert.Equal("The jury said \"no evidence\", it's Atlanta's.", BrownCorpus.ToPlainText(tagged));
    }

    [Fact]
    public void Read_Gives500DocumentsOverFifteenGenres()
    {
        var docs = BrownCorpus.Read(TestAssets.Store.Require("corpora/brown")).ToList();
        Assert.Equal(500, docs.Count);
        Assert.Equal(15, docs.Select(d => d.GenreCode).Distinct().Count());
        Assert.DoesNotContain(docs, d => d.Text.Contains("/nn"));
    }
}
