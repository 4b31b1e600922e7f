namespace MultiTeacher.Checkpoints;

/// <summary>A checkpoint that cannot be used: names the file and, where it applies, the tensor.</summary>
public sealed class CheckpointException(string file, string? tensor, string problem)
    : BadInputException(tensor is null ? $"{file}: {problem}" : $"{file}: tensor '{tensor}': {problem}")
{
    public string File { get; } = file;
    public string? Tensor { get; } = tensor;
}
