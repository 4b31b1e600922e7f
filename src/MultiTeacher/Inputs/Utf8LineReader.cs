namespace MultiTeacher.Inputs;

/// <summary>
/// Lines of strict UTF-8 from a stream (stdin): a line with invalid bytes throws
/// <see cref="InvalidDataException"/> naming the byte offset in the whole stream, where a plain
/// StreamReader would silently turn them into U+FFFD.
/// </summary>
public sealed class Utf8LineReader(Stream stream, string source) : TextReader
{
    private readonly BufferedStream _stream = new(stream, 1 << 16);
    private readonly MemoryStream _line = new();
    private long _offset;
    private string? _pending;
    private int _pendingAt;

    public override string? ReadLine()
    {
        if (_pending is not null)
        {
            var rest = _pending[_pendingAt..];
            _pending = null;
            return rest.EndsWith('\n') ? rest[..^1] : rest;
        }
        return NextLine(keepNewline: false);
    }

    public override int Peek() => Fill() ? _pending![_pendingAt] : -1;

    public override int Read() => Fill() ? _pending![_pendingAt++] : -1;

    private bool Fill()
    {
        if (_pending is not null && _pendingAt < _pending.Length) return true;
        _pending = NextLine(keepNewline: true);
        _pendingAt = 0;
        if (_pending is { Length: > 0 }) return true;
        _pending = null;
        return false;
    }

    private string? NextLine(bool keepNewline)
    {
        _line.SetLength(0);
        int b;
        while ((b = _stream.ReadByte()) >= 0 && b != '\n') _line.WriteByte((byte)b);
        if (b < 0 && _line.Length == 0) return null;
        var start = _offset;
        _offset += _line.Length + (b < 0 ? 0 : 1);
        var span = _line.GetBuffer().AsSpan(0, (int)_line.Length);
        if (span.EndsWith("\r"u8)) span = span[..^1];
        var text = Utf8Text.Decode(span, source, start);
        return keepNewline && b >= 0 ? text + "\n" : text;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) { _stream.Dispose(); _line.Dispose(); }
        base.Dispose(disposing);
    }
}
