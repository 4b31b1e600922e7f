using MultiTeacher.Pipelines;
using System.CommandLine;
using MultiTeacher.Cli.Commands;
using MultiTeacher.Experiments;
using MultiTeacher.Recipes;
using MultiTeacher.Reporting;
using MultiTeacher.Runtime;
using Spectre.Console;

namespace MultiTeacher.Cli;

/// <summary>Standard streams of one CLI invocation (swappable so tests can run commands in-process).</summary>
public sealed record CliIO(TextReader In, TextWriter Out, TextWriter Error)
{
    /// <summary>Standard input is read as strict UTF-8: invalid bytes are reported by offset rather than turned into U+FFFD.</summary>
    public static CliIO Console => new(new MultiTeacher.Inputs.Utf8LineReader(System.Console.OpenStandardInput(), "stdin"), System.Console.Out, System.Console.Error);

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

    /// <summary>Prints a report's table on Out; its text is shown as is, never read as markup.</summary>
    public void Write(TextTable table)
    {
        var t = new Table().Title(Markup.Escape(table.Title)).AddColumns(table.Columns.Select(Markup.Escape).ToArray());
        foreach (var row in table.Rows) t.AddRow(row.Select(Markup.Escape).ToArray());
        Tables().Write(t);
    }
}

/// <summary>The `mt` command tree and its exit-code contract: 0 ok, 1 failure, 2 bad input.</summary>
public static class CliApp
{
    public const int Ok = 0, Failure = 1, BadInput = 2;

    /// <summary>--json: one JSON document on stdout (snake_case names, see <see cref="MultiTeacher.Runs.SpellingJson"/>) instead of tables.</summary>
    public static readonly Option<bool> JsonOption = new("--json") { Description = "Print one JSON document (snake_case names) instead of tables" };

    /// <summary>
    /// How long Ctrl+C or SIGTERM lets a command stop cleanly (a worker or `mt run` ends its current
    /// training step and checkpoints it) before the process ends anyway.
    /// </summary>
    public static readonly TimeSpan ShutdownGrace = TimeSpan.FromMinutes(2);

    public static int Run(string[] args) => Run(args, CliIO.Console);

    public static int Run(string[] args, CliIO io)
    {
        var root = new RootCommand("MultiTeacher: distil several teacher LLMs with different vocabularies into one student.")
        {
            AssetsCommand.Create(io),
            TokenizeCommand.Create(io),
            AlignCommand.Create(io),
            RecipeCommand.Create(io),
            RunCommand.Create(io),
            SubmitCommand.Create(io),
            WorkerCommand.Create(io),
            CancelCommand.Create(io),
            AuditCommand.Create(io),
            DashboardCommand.Create(io),
            CacheCommand.Create(io),
            RunsCommand.Create(io),
            ShowCommand.Create(io),
            LineageCommand.Create(io),
            EvalCommand.Create(io),
            ModelCommand.Create(io),
            GenerateCommand.Create(io),
            DbCommand.Create(io),
            DemoCommand.Create(io),
            ExperimentCommand.Create(io),
            MergeCommand.Create(io),
            TransplantCommand.Create(io),
        };
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors) io.Error.WriteLine($"mt: {Terminal.Lines(error.Message)}");
            io.Error.WriteLine("Run 'mt --help' for usage.");
            return BadInput;
        }
        try
        {
            return parsed.Invoke(new InvocationConfiguration { Output = io.Out, Error = io.Error, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = ShutdownGrace });
        }
        catch (Exception e)
        {
            var code = ExitCode(e);
            io.Error.WriteLine(code == BadInput ? $"mt: {Terminal.Lines(FailureText.Of(e))}" : $"mt: failed: {Terminal.Lines(FailureText.Of(e))}");
            return code;
        }
    }

    /// <summary>The exit code of a command that threw: bad input (<see cref="BadInputException.Is"/>) or failure.</summary>
    public static int ExitCode(Exception e) => BadInputException.Is(e) ? BadInput : Failure;

    /// <summary>
    /// Loads a recipe as `mt` commands read it: ${MT_ASSETS} and ${MT_DEMO} are the asset cache and
    /// the demo's directory (see <see cref="DemoPaths"/>), so the shipped recipes run from anywhere.
    /// </summary>
    public static Recipe LoadRecipe(string file, IReadOnlyList<string>? overrides = null) => DemoPaths.Default().Load(file, overrides);

    /// <summary>Loads a pipeline as `mt` commands read it, with the same ${MT_ASSETS} and ${MT_DEMO} as recipes; overrides apply to recipes only.</summary>
    public static Pipeline LoadPipeline(string file, IReadOnlyList<string>? overrides = null) => overrides is { Count: > 0 }
        ? throw new BadInputException($"{Path.GetFullPath(file)}: overrides ({overrides[0]}) apply to recipes; a pipeline's settings are in its file")
        : PipelineLoader.Load(file, DemoPaths.Default().RecipeVariables);
}
