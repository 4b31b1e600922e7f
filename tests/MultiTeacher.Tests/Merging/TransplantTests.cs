using MultiTeacher.Merging;
using MultiTeacher.Models;
using MultiTeacher.Tests.Cli;
using MultiTeacher.Tests.Models;
using static TorchSharp.torch;

namespace MultiTeacher.Tests.Merging;

[Trait("Category", TestCategory.Unit)]
public class TransplantTests : TempDirectoryTest
{
    /// <summary>A tiny model sized for a real tokenizer, saved with that tokenizer's files.</summary>
    private string TinyWithTokenizer(string name, string family, string modelType, long seed, ScalarType dtype = ScalarType.BFloat16)
    {
        var tokenizer = TestAssets.Tokenizer(family);
        var config = TinyModels.Config(modelType, tokenizer.VocabSize);
        config.HiddenSize = 32;
        config.NumHiddenLayers = 1;
        if (config.HeadDimOverride is not null) config.HeadDimOverride = 8;
        using var model = TinyModels.Create(config, seed);
        var dir = Path.Combine(TempDir, name);
        PretrainedModel.Save(model, dir, TestAssets.TokenizerDir(family), dtype);
        return dir;
    }

    [Fact]
    public void A_model_transplanted_to_its_own_tokenizer_is_unchanged()
    {
        var model = TinyWithTokenizer("m", "mistral-7b-v0.1", "llama", 1);
        var output = Path.Combine(TempDir, "out");
        var (code, stdout, stderr) = CliRunner.Run("", "transplant", "--model", model, "--tokenizer", TestAssets.TokenizerDir("mistral-7b-v0.1"), "--out", output);
        Assert.True(code == 0, stderr);
        Assert.Contains("0 approximated", stdout);
        var (before, after) = (MergeFixtures.Weights(model), MergeFixtures.Weights(output));
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        foreach (var (name, t) in before) Assert.True(TinyModels.Identical(t, after[name]), name);
    }

    [Theory]
    [InlineData("llama")]   // separate LM head
    [InlineData("qwen2")]   // tied embeddings
    public void Shared_tokens_rows_are_copied_bit_for_bit_and_the_rest_are_piece_means(string modelType)
    {
        var model = TinyWithTokenizer("m", "llama3", modelType, 2);
        var output = Path.Combine(TempDir, "out");
        var (code, _, stderr) = CliRunner.Run("", "transplant", "--model", model, "--tokenizer", TestAssets.TokenizerDir("mistral-7b-v0.1"), "--out", output);
        Assert.True(code == 0, stderr);

        var (old, @new) = (TestAssets.Tokenizer("llama3"), TestAssets.Tokenizer("mistral-7b-v0.1"));
        var config = ModelConfig.FromPretrained(output);
        Assert.Equal(@new.VocabSize, config.VocabSize);
        Assert.Equal(@new.Roles.Bos, config.BosTokenId!.Value.GetInt32());
        using var checkpoint = new MultiTeacher.Checkpoints.Checkpoint(model);
        using var transplanted = new MultiTeacher.Checkpoints.Checkpoint(output);
        Assert.Equal(modelType == "llama", transplanted.Contains(VocabularyTransplant.Head));
        var (oldRows, newRows) = (checkpoint.Read(VocabularyTransplant.Embedding), transplanted.Read(VocabularyTransplant.Embedding));

        // " the": mistral's "▁the" is llama3's "Ġthe"; BOS <s> takes <|begin_of_text|>'s row by role.
        var the = (New: @new.EncodeBytesMidText(" the"u8).Single(), Old: old.EncodeBytesMidText(" the"u8).Single());
        Assert.True(TinyModels.Identical(newRows[the.New], oldRows[the.Old]));
        Assert.True(TinyModels.Identical(newRows[@new.Roles.Bos], oldRows[old.Roles.Bos]));
        var match = new VocabularyMatch(old, @new);
        Assert.True(match.Shared > 29_000);
        foreach (var id in Enumerable.Range(0, @new.VocabSize).Where(i => match.OldIdOf[i] >= 0).Take(2000))
            Assert.True(TinyModels.Identical(newRows[id], oldRows[match.OldIdOf[id]]), $"row {id}");

        // A token llama3 lacks, recomputed naively: the mean of its pieces' rows, rounded to bf16 once.
        var missing = Enumerable.Range(0, @new.VocabSize).First(i => match.OldIdOf[i] < 0 && !@new.IsSpecial(i) && old.EncodeBytesMidText(@new.TokenBytes(i)).Length > 1);
        var pieces = old.EncodeBytesMidText(@new.TokenBytes(missing));
        Assert.True(pieces.Length > 1);
        var sum = zeros(oldRows.shape[1]);
        foreach (var p in pieces) sum += oldRows[p].to(ScalarType.Float32);
        Assert.True(TinyModels.Identical((sum / pieces.Length).to(ScalarType.BFloat16), newRows[missing]));

        if (modelType == "llama")
        {
            // A separate head's new rows are the mean of every old head row, summed naively here.
            var (oldHead, newHead) = (checkpoint.Read(VocabularyTransplant.Head), transplanted.Read(VocabularyTransplant.Head));
            var all = zeros(oldHead.shape[1]);
            for (var r = 0; r < oldHead.shape[0]; r++) all += oldHead[r].to(ScalarType.Float32);
            Assert.True(TinyModels.Identical((all / oldHead.shape[0]).to(ScalarType.BFloat16), newHead[missing]));
            Assert.True(TinyModels.Identical(newHead[the.New], oldHead[the.Old]));
        }

        using var lm = PretrainedModel.Load(output);
        Assert.Equal(4, TextGenerator.Generate(lm, @new.EncodeToIds("The jury said"), 4).Length);
    }

    [Fact]
    public void Head_approximate_builds_a_separate_heads_new_rows_as_the_embeddings_are_built()
    {
        var model = TinyWithTokenizer("m", "llama3", "llama", 4);
        var output = Path.Combine(TempDir, "out");
        var (code, _, stderr) = CliRunner.Run("", "transplant", "--model", model, "--tokenizer", TestAssets.TokenizerDir("mistral-7b-v0.1"), "--out", output, "--head", "approximate");
        Assert.True(code == 0, stderr);
        var (old, @new) = (TestAssets.Tokenizer("llama3"), TestAssets.Tokenizer("mistral-7b-v0.1"));
        var match = new VocabularyMatch(old, @new);
        var missing = Enumerable.Range(0, @new.VocabSize).First(i => match.OldIdOf[i] < 0 && !@new.IsSpecial(i) && old.EncodeBytesMidText(@new.TokenBytes(i)).Length > 1);
        using var checkpoint = new MultiTeacher.Checkpoints.Checkpoint(model);
        using var transplanted = new MultiTeacher.Checkpoints.Checkpoint(output);
        var oldHead = checkpoint.Read(VocabularyTransplant.Head);
        var sum = zeros(oldHead.shape[1]);
        var pieces = old.EncodeBytesMidText(@new.TokenBytes(missing));
        foreach (var p in pieces) sum += oldHead[p].to(ScalarType.Float32);
        Assert.True(TinyModels.Identical((sum / pieces.Length).to(ScalarType.BFloat16), transplanted.Read(VocabularyTransplant.Head)[missing]));
    }

    [Theory]
    [InlineData("llama3", "qwen2", "mistral-7b-v0.1", "--head", "average", "tied embeddings")]                                       // no separate head to set
    [InlineData("mistral-7b-v0.1", "llama", "llama3", "--method", "omp", "omp needs a model that uses the new tokenizer")]          // nothing to fit OMP in
    public void A_transplant_that_cannot_do_what_is_asked_exits_2_with_one_line_and_no_output(string family, string modelType, string target, string option, string value, string message)
    {
        var model = TinyWithTokenizer("m", family, modelType, 5);
        var output = Path.Combine(TempDir, "out");
        var (code, _, stderr) = CliRunner.Run("", "transplant", "--model", model, "--tokenizer", TestAssets.TokenizerDir(target), "--out", output, option, value);
        Assert.Equal(2, code);
        Assert.Contains(message, stderr);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public void Omp_with_a_donor_copies_shared_rows_and_combines_anchor_rows()
    {
        var model = TinyWithTokenizer("m", "llama3", "llama", 1);
        var donor = TinyWithTokenizer("donor", "mistral-7b-v0.1", "llama", 9);
        var output = Path.Combine(TempDir, "out");
        var (code, _, stderr) = CliRunner.Run("", "transplant", "--model", model, "--tokenizer", donor, "--out", output, "--method", "omp", "--k", "4");
        Assert.True(code == 0, stderr);
        using var lm = PretrainedModel.Load(output);
        Assert.Equal(TestAssets.Tokenizer("mistral-7b-v0.1").VocabSize, lm.Config.VocabSize);
    }
}
