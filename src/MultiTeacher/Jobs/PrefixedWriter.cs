using System.Text;

namespace MultiTeacher.Jobs;

/// <summary>A line writer that tags each line with its job, so concurrent jobs in one worker stay readable.</summary>
public sealed class PrefixedWriter(TextWriter inner, string prefix) : TextWriter
{
    private readonly StringBuilder _line = new();

    public override Encoding Encoding => inner.Encoding;

    public override void Write(char value)
    {
        if (value == '\n') FlushLine();
        else if (value != '\r') _line.Append(value);
    }

    public override void WriteLine(string? value)
    {
        _line.Append(value);
        FlushLine();
    }

    private void FlushLine()
    {
        var text = prefix + _line;
        _line.Clear();
        lock (inner) inner.WriteLine(text);
    }
}
