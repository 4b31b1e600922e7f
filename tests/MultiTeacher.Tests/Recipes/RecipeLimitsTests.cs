using MultiTeacher.Recipes;

namespace MultiTeacher.Tests.Recipes;

/// <summary>Values a recipe cannot hold: overflowing integers, absurd sizes, unsafe names, deep nesting.</summary>
[Trait("Category", TestCategory.Unit)]
public sealed class RecipeLimitsTests : RecipeTestFiles
{
    private RecipeError SingleError(string extra, string? yaml = null)
    {
        var e = Assert.Throws<RecipeException>(() => RecipeLoader.Load(Write(yaml ?? Minimal(extra))));
        return Assert.Single(e.Errors);
    }

    [Theory]
    [InlineData("train: { steps: 4294967296 }", "'steps' is 4294967296, expected between 1 and 10000000")]
    [InlineData("train: { batch_size: 2147483648 }", "'batch_size' is 2147483648, expected between 1 and 4096")]
    [InlineData("seed: 99999999999999999999999", "'seed' is 99999999999999999999999, expected between 0 and 9007199254740991")]
    [InlineData("data: { train: train.txt, seq_len: 65537 }", "'seq_len' is 65537, expected between 8 and 65536")]
    [InlineData("train: { lr: 100 }", "'lr' is 100, expected > 0 and <= 10")]
    [InlineData("train: { lr: .inf }", "'lr' must be a number")]
    [InlineData("loss: { kind: alm, alm_temperature: 0 }", "'alm_temperature' is 0, expected > 0 and <= 1000000")]
    [InlineData("loss: { kind: alm, alm_gamma: 1.5 }", "'alm_gamma' is 1.5, expected between 0 and 1")]
    [InlineData("loss: { kind: alm, alm_debias: 2 }", "'alm_debias' must be true or false")]
    [InlineData("alignment: { top_k: 1.5 }", "'top_k' must be an integer")]
    public void OutOfRangeNumbers_AreErrorsOnTheirLine(string line, string message)
    {
        // Minimal recipes have data on line 2 and room for one more line at 4.
        var data = line.StartsWith("data:");
        var error = SingleError("", data ? Minimal().Replace("data: { train: train.txt }", line) : Minimal(line));
        Assert.Equal(message, error.Message);
        Assert.Equal(data ? 2 : 4, error.Line);
    }

    [Fact]
    public void AMicroBatchOfMoreThanAMillionTokens_IsRefused()
    {
        var error = SingleError("", Minimal("train: { batch_size: 4096 }").Replace("train: train.txt", "train: train.txt, seq_len: 4096"));
        Assert.StartsWith("batch_size × seq_len is 16,777,216 tokens per micro-batch, at most 1,048,576", error.Message);
    }

    [Theory]
    [InlineData("../../../x")]
    [InlineData("a/b")]
    [InlineData(".hidden")]
    public void Names_ThatWouldLeaveTheRunsDirectory_AreRefused(string name)
    {
        var error = SingleError("", Minimal().Replace("name: tiny", $"name: \"{name}\""));
        Assert.Equal($"'name' is '{name}': use letters, digits, '.', '_' and '-', starting with a letter or digit", error.Message);
        Assert.Equal(1, error.Line);
    }

    [Fact]
    public void LongStrings_AreRefused()
    {
        Assert.Equal("'name' is 201 characters long, at most 200", SingleError("", Minimal().Replace("name: tiny", "name: " + new string('n', 201))).Message);
        Assert.Equal("'field' is 300 characters long, at most 200",
            SingleError("", Minimal().Replace("data: { train: train.txt }", $"data: {{ train: train.txt, field: {new string('f', 300)} }}")).Message);
    }

    [Theory]
    [InlineData('[', ']')]
    [InlineData('{', '}')]
    public void DeeplyNestedYaml_IsOneErrorLine_NotAStackOverflow(char open, char close)
    {
        var depth = 50_000;
        var error = SingleError("", "name: x\ndata: " + new string(open, depth) + new string(close, depth) + "\n");
        Assert.Equal("nested more than 32 levels deep", error.Message);
        Assert.Equal(2, error.Line);
        Assert.DoesNotContain('\n', error.ToString());
    }

    [Fact]
    public void DeeplyNestedUnclosedYaml_IsOneErrorLine()
    {
        var error = SingleError("", "name: x\ndata: " + new string('[', 50_000));
        Assert.Equal(2, error.Line);
        Assert.DoesNotContain('\n', error.ToString());
    }

    [Fact]
    public void HugeFiles_AreRefusedBeforeParsing()
    {
        var error = SingleError("", Minimal("# " + new string('x', RecipeLoader.MaxBytes)));
        Assert.Equal("a recipe is at most 1024 KB", error.Message);
    }
}
