namespace MultiTeacher.Runtime;

/// <summary>
/// The message of a failure as a user reads it: libtorch appends its C++ backtrace to the message
/// of every error it raises ("Exception raised from ... (most recent call first):" and one line a
/// frame), which is a stack trace, so only the text before it is kept.
/// </summary>
public static class FailureText
{
    private const string Backtrace = "Exception raised from ";

    public static string Of(Exception e) => Of(e.Message);

    public static string Of(string message)
    {
        var at = message.IndexOf(Backtrace, StringComparison.Ordinal);
        return at < 0 ? message : message[..at].TrimEnd();
    }
}
