using System.Text;
using MultiTeacher.Merging;
using MultiTeacher.Models;
using MultiTeacher.Tests.Cli;
using MultiTeacher.Tests.Models;

namespace MultiTeacher.Tests.Merging;

[Trait("Category", TestCategory.Unit)]
public class ForeignSegmentationTests : TempDirectoryTest
{
    private const string Hard = "In 1234 the unbelievable café 日本語 😀\n\n   spaces\tand a tab.";

    [Fact]
    public void Cut_as_its_own_tokenizer_the_text_is_the_models_own_encoding()
    {
        var llama = TestAssets.Tokenizer("llama3");
        var own = llama.Encode(Hard);
        var cut = new ForeignSegmentation(llama, llama).Encode(Hard);
        Assert.Equal(own.Ids, cut.Ids);
        Assert.Equal(own.ByteOffsets, cut.ByteOffsets);
    }

    [Fact]
    public void Cut_as_mistral_a_llama3_model_sees_mistrals_boundaries_with_every_byte_once()
    {
        var (llama, mistral) = (TestAssets.Tokenizer("llama3"), TestAssets.Tokenizer("mistral-7b-v0.1"));
        var cut = new ForeignSegmentation(llama, mistral).Encode(Hard);
        var length = Encoding.UTF8.GetByteCount(Hard);

        // BOS first (Mistral's <s> by role is <|begin_of_text|>), then spans that tile the text in order.
        Assert.Equal(llama.Roles.Bos, cut.Ids[0]);
        Assert.Equal((0, 0), cut.ByteOffsets[0]);
        var at = 0;
        foreach (var (start, end) in cut.ByteOffsets.Skip(1)) { Assert.Equal(at, start); at = end; }
        Assert.Equal(length, at);

        // Every place Mistral ends a token is a token end here too.
        var ends = cut.ByteOffsets.Select(o => o.End).ToHashSet();
        Assert.All(mistral.Encode(Hard).ByteOffsets, o => Assert.Contains(o.End, ends));

        // Mistral writes digits one by one; Llama 3 itself would write "123" as one token.
        var digits = cut.Ids.Zip(cut.ByteOffsets).Where(t => t.Second.Start >= 3 && t.Second.End <= 7)
            .Select(t => Encoding.UTF8.GetString(llama.TokenBytes(t.First))).ToArray();
        Assert.Equal(["1", "2", "3", "4"], digits);
        Assert.Contains(llama.Encode(Hard).Ids, id => Encoding.UTF8.GetString(llama.TokenBytes(id)) == "123");

        // The ids say the text back, with the space SentencePiece puts in front.
        Assert.Equal(" " + Hard, llama.Decode(cut.Ids, skipSpecialTokens: true));
    }

    [Fact]
    public void Eval_segment_as_scores_the_foreign_cut_and_its_own_tokenizer_changes_nothing()
    {
        var (llama, mistral) = (TestAssets.Tokenizer("llama3"), TestAssets.Tokenizer("mistral-7b-v0.1"));
        var config = TinyModels.Config("qwen2", llama.VocabSize);
        (config.HiddenSize, config.NumHiddenLayers) = (32, 1);
        using (var tiny = TinyModels.Create(config, 3)) PretrainedModel.Save(tiny, Path.Combine(TempDir, "m"), TestAssets.TokenizerDir("llama3"));
        var text = Path.Combine(TempDir, "text.txt");
        File.WriteAllText(text, string.Join("\n", Enumerable.Repeat(Hard, 4)));
        double Bpb(params string[] args)
        {
            var (code, stdout, stderr) = CliRunner.Run("", ["eval", "--json", "--data", text, "--window", "16", .. args]);
            Assert.True(code == 0, stderr);
            return System.Text.Json.JsonDocument.Parse(stdout).RootElement.GetProperty("result").GetProperty("bits_per_byte").GetDouble();
        }
        var model = Path.Combine(TempDir, "m");
        Assert.Equal(Bpb("--model", model), Bpb("--model", model, "--segment-as", model));
        var cut = Bpb("--model", model, "--segment-as", TestAssets.TokenizerDir("mistral-7b-v0.1"));

        // A random model scores nearly log2(vocab) per token: its cut has more tokens, so more bits.
        var perToken = Math.Log2(llama.VocabSize);
        var tokens = new ForeignSegmentation(llama, mistral).Encode(Hard).Count;
        Assert.True(cut > Bpb("--model", model) * 1.05, $"{cut}");
        Assert.True(tokens > llama.Encode(Hard).Count, "mistral cuts this text finer");
        Assert.InRange(cut / (perToken * tokens / Encoding.UTF8.GetByteCount(Hard)), 0.8, 1.2);

        var (bad, _, stderr) = CliRunner.Run("", "eval", "--model", model, "--data", text, "--segment-as", Path.Combine(TempDir, "none"));
        Assert.Equal(2, bad);
        Assert.Single(stderr.Trim().Split('\n'));
    }
}
