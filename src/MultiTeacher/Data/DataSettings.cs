using MultiTeacher.Settings;

namespace MultiTeacher.Data;

/// <summary>How a text file or directory is read.</summary>
public enum DataFormat
{
    /// <summary>Brown corpus directory, .jsonl file, else plain text.</summary>
    Auto,
    /// <summary>Plain text, documents separated by blank lines.</summary>
    Text,
    /// <summary>One JSON object per line, the text in a field.</summary>
    Jsonl,
    /// <summary>The Brown corpus (NLTK layout).</summary>
    Brown,
}

/// <summary>Where the text comes from and how it is cut into training sequences.</summary>
public sealed record DataSettings
{
    [Setting("train", "training text: a file or directory", Required = true, Path = PathUse.Input)]
    public string Train { get; init; } = "";

    [Setting("eval", "held-out text for bits per byte", Path = PathUse.Input)]
    public string? Eval { get; init; }

    [Setting("format", "how the text is read")]
    public DataFormat Format { get; init; } = DataFormat.Auto;

    [Setting("field", "jsonl: the field holding the text", MaxLength = 200)]
    public string Field { get; init; } = "text";

    [Setting("seq_len", "student tokens per training sequence", Min = 8, Max = 1 << 16)]
    public int SequenceLength { get; init; } = 128;

    [Setting("packing", "join documents before cutting, so short ones fill whole sequences")]
    public bool Packing { get; init; } = true;
}
