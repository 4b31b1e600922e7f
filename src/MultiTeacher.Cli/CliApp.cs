using System.CommandLine;
using System.Text.Json;
using MultiTeacher.Cli.Commands;
using MultiTeacher.Tokenization;

namespace MultiTeacher.Cli;

/// <summary>Standard streams of one CLI invocation (swappable so tests can run commands in-process).</summary>
public sealed record CliIO(TextReader In, TextWriter Out, TextWriter Error)
{
    public static CliIO Console => new(System.Console.In, System.Console.Out, System.Console.Error);

    /// <summary>A Spectre console on Out for tables: plain text, wide enough for numbers not to wrap.</summary>
    public Spectre.Console.IAnsiConsole Tables()
    {
        var console = Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings
        {
            Out = new Spectre.Console.AnsiConsoleOutput(Out),
            Ansi = Spectre.Console.AnsiSupport.No,
        });
        console.Profile.Width = 120;
        return console;
    }
}

/// <summary>The `mt` command tree and its exit-code contract: 0 ok, 1 failure, 2 bad input.</summary>
public static class CliApp
{
    public const int Ok = 0, Failure = 1, BadInput = 2;

    public static int Run(string[] args) => Run(args, CliIO.Console);

    public static int Run(string[] args, CliIO io)
    {
        var root = new RootCommand("MultiTeacher: distil several teacher LLMs with different vocabularies into one student.")
        {
            AssetsCommand.Create(io),
            TokenizeCommand.Create(io),
            AlignCommand.Create(io),
            RecipeCommand.Create(io),
            RunCommand.CreateRun(io),
            JobCommands.CreateSubmit(io),
            JobCommands.CreateWorker(io),
            JobCommands.CreateCancel(io),
            AuditCommand.Create(io),
            DashboardCommand.Create(io),
            RunCommand.CreateCache(io),
            LineageCommands.CreateRuns(io),
            LineageCommands.CreateShow(io),
            LineageCommands.CreateLineage(io),
            RunCommand.CreateEval(io),
            ModelCommand.CreateModel(io),
            ModelCommand.CreateGenerate(io),
            DbCommand.Create(io),
            DemoCommand.Create(io),
            ExperimentCommand.Create(io),
            MergeCommand.Create(io),
            TransplantCommand.Create(io),
        };
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors) io.Error.WriteLine($"mt: {error.Message}");
            io.Error.WriteLine("Run 'mt --help' for usage.");
            return BadInput;
        }
        try
        {
            return parsed.Invoke(new InvocationConfiguration { Output = io.Out, Error = io.Error, EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (IsBadInput(e))
        {
            io.Error.WriteLine($"mt: {e.Message}");
            return BadInput;
        }
        catch (Exception e)
        {
            io.Error.WriteLine($"mt: failed: {e.Message}");
            return Failure;
        }
    }

    /// <summary>Errors caused by what the user gave us, as opposed to failures of the tool or machine.</summary>
    public static bool IsBadInput(Exception e) => e is TokenizerLoadException or FileNotFoundException
        or DirectoryNotFoundException or InvalidDataException or JsonException or BadInputException
        or MultiTeacher.Checkpoints.CheckpointException or MultiTeacher.Recipes.RecipeException or MultiTeacher.Recipes.InputsChangedException
        or MultiTeacher.Merging.MergeException;
}

/// <summary>A problem with the user's input, reported with exit code 2.</summary>
public sealed class BadInputException(string message) : Exception(message);

/// <summary>A run ended failed or cancelled; the message says how (exit code 1).</summary>
public sealed class RunFailedException(string message) : Exception(message);
