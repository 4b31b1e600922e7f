namespace MultiTeacher.Tokenization;

/// <summary>A tokenizer directory that cannot be loaded: names the file and the problem.</summary>
public sealed class TokenizerLoadException(string file, string problem, Exception? inner = null)
    : BadInputException($"{file}: {problem}", inner)
{
    public string File { get; } = file;
    public string Problem { get; } = problem;
}
