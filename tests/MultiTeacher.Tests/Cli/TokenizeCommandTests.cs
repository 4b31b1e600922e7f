using System.Text.Json;

namespace MultiTeacher.Tests.Cli;

[Trait("Category", TestCategory.Unit)]
public class TokenizeCommandTests
{
    [Fact]
    public void Tokenize_WritesOneLineOfIdsPerInputLine()
    {
        var dir = TestAssets.TokenizerDir("mistral-7b-v0.1");
        var (code, output, _) = CliRunner.Run("Hello\nHello world\n", "tokenize", "--tokenizer", dir);
        Assert.Equal(0, code);
        Assert.Equal(["1 22557", "1 22557 1526"], output.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void Tokenize_Json_HasIdsOffsetsAndExactTokenBytes()
    {
        var dir = TestAssets.TokenizerDir("llama3");
        var (code, output, _) = CliRunner.Run("naïve 😀\n", "tokenize", "--tokenizer", dir, "--json", "--no-special");
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(output);
        var bytes = string.Concat(doc.RootElement.GetProperty("bytes").EnumerateArray().Select(b => b.GetString()));
        Assert.Equal(Convert.ToHexStringLower("naïve 😀"u8), bytes);
        var last = doc.RootElement.GetProperty("byte_offsets").EnumerateArray().Last();
        Assert.Equal("naïve 😀"u8.Length, last[1].GetInt32());
    }

    [Fact]
    public void Tokenize_MissingDirectory_ExitsWithBadInput_AndOneLineNamingIt()
    {
        var (code, _, error) = CliRunner.Run("x\n", "tokenize", "--tokenizer", "/nonexistent/tok");
        Assert.Equal(2, code);
        Assert.Single(error.TrimEnd('\n').Split('\n'));
        Assert.Contains("/nonexistent/tok", error);
    }

    [Fact]
    public void Tokenize_MalformedTokenizerJson_ExitsWithBadInput()
    {
        var dir = Directory.CreateTempSubdirectory("mt-cli-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "tokenizer.json"), "{ \"model\": ");
            var (code, _, error) = CliRunner.Run("x\n", "tokenize", "--tokenizer", dir);
            Assert.Equal(2, code);
            Assert.Contains("tokenizer.json", error);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void UnknownOption_IsBadInput_AndHelpDescribesEveryCommand()
    {
        Assert.Equal(2, CliRunner.Run("", "tokenize", "--bogus").ExitCode);
        var (code, output, _) = CliRunner.Run("", "--help");
        Assert.Equal(0, code);
        foreach (var command in new[] { "assets", "tokenize", "demo" }) Assert.Contains(command, output);
    }
}
