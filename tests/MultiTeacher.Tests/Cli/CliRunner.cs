using MultiTeacher.Cli;

namespace MultiTeacher.Tests.Cli;

/// <summary>Runs `mt` in-process with captured streams.</summary>
public static class CliRunner
{
    public static (int ExitCode, string Out, string Error) Run(string stdin, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = CliApp.Run(args, new CliIO(new StringReader(stdin), output, error));
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>Runs with raw bytes on stdin, read the way the console's stdin is (strict UTF-8).</summary>
    public static (int ExitCode, string Out, string Error) RunBytes(byte[] stdin, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        using var reader = new MultiTeacher.Inputs.Utf8LineReader(new MemoryStream(stdin), "stdin");
        var code = CliApp.Run(args, new CliIO(reader, output, error));
        return (code, output.ToString(), error.ToString());
    }
}
