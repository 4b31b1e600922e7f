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
}
