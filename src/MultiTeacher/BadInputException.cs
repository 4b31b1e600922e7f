using System.Text.Json;

namespace MultiTeacher;

/// <summary>
/// A problem with what the user gave (recipe, checkpoint, tokenizer, changed input, option): the
/// CLI exits with code 2 and a job fails at once, since another attempt would meet the same input.
/// </summary>
public class BadInputException(string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>
    /// The one decision "is this the input's fault?", for the CLI's exit code and the jobs' retry
    /// policy alike: a <see cref="BadInputException"/>, or what the runtime throws for a missing or
    /// malformed file the user named (missing path, invalid data, invalid JSON).
    /// </summary>
    public static bool Is(Exception e) => e is BadInputException or FileNotFoundException or DirectoryNotFoundException
        or InvalidDataException or JsonException;
}
