using System.Text.Json;

namespace MultiTeacher.Tests.Cli;

[Trait("Category", TestCategory.Unit)]
public class AlignCommandTests
{
    [Fact]
    public void Align_Json_ReportsCoverageAndExactMass_OnAText()
    {
        var text = Path.GetTempFileName();
        try
        {
            File.WriteAllLines(text, ["The jury said it did find that many of Georgia's registration laws are outmoded.", "日本語 12345 😀"]);
            var (code, output, error) = CliRunner.Run("", "align", "--teacher", TestAssets.TokenizerDir("llama3"),
                "--student", TestAssets.TokenizerDir("mistral-7b-v0.1"), "--method", "exact", "--text", text, "--json");
            Assert.True(code == 0, error);
            using var doc = JsonDocument.Parse(output);
            Assert.InRange(doc.RootElement.GetProperty("coverage").GetDouble(), 0.5, 1.0);
            Assert.InRange(doc.RootElement.GetProperty("exactMass").GetDouble(), 0.5, 1.0);
            Assert.Equal(128256, doc.RootElement.GetProperty("report").GetProperty("TeacherVocab").GetInt32());
        }
        finally { File.Delete(text); }
    }

    [Fact]
    public void Align_TextThatIsNotUtf8_IsBadInput()
    {
        var text = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(text, [0x48, 0x69, 0xFF, 0xFE, 0x0A]);
            var (code, _, error) = CliRunner.Run("", "align", "--teacher", TestAssets.TokenizerDir("llama3"),
                "--student", TestAssets.TokenizerDir("qwen3"), "--text", text);
            Assert.Equal(2, code);
            Assert.Contains("not UTF-8", error);
        }
        finally { File.Delete(text); }
    }

    [Theory]
    [InlineData("--method", "nearest")]
    [InlineData("--teacher", "/nonexistent/teacher")]
    public void Align_BadMethodOrDirectory_IsBadInput(string option, string value)
    {
        var args = new List<string> { "align", "--teacher", TestAssets.TokenizerDir("llama3"), "--student", TestAssets.TokenizerDir("qwen3") };
        var at = args.IndexOf(option);
        if (at >= 0) args[at + 1] = value; else args.AddRange([option, value]);
        Assert.Equal(2, CliRunner.Run("", [.. args]).ExitCode);
    }
}
