using System.Buffers;
using System.Text.Unicode;

namespace MultiTeacher.Inputs;

/// <summary>How large a file of user input may be before it is refused unread.</summary>
public static class InputLimits
{
    public const long Data = 1L << 30;
    public const long TokenizerJson = 512L << 20;
    public const long SmallJson = 16L << 20;
    public const long Unbounded = long.MaxValue;
}

/// <summary>
/// The one way user input files are opened: only regular files with content, within a size limit,
/// and text only as strict UTF-8. A FIFO, a socket or a device reports a size of zero, so a path
/// with no size is never opened (opening a FIFO blocks until a writer comes; /dev/zero never ends),
/// and no more than the reported size is ever read. Problems are <see cref="InvalidDataException"/>
/// or <see cref="FileNotFoundException"/> with the path and the reason.
/// </summary>
public static class InputFile
{
    /// <summary>The checked file (after symbolic links) and its size; zero only when <paramref name="allowEmpty"/>.</summary>
    public static FileInfo Check(string path, long maxBytes, bool allowEmpty = false)
    {
        if (Directory.Exists(path)) throw new InvalidDataException($"{path}: is a directory, expected a file");
        var file = new FileInfo(path);
        if (file.LinkTarget is not null)
        {
            FileSystemInfo? target;
            try { target = File.ResolveLinkTarget(path, returnFinalTarget: true); }
            catch (IOException) { throw new InvalidDataException($"{path}: symbolic link loop"); }
            if (target is null || !target.Exists) throw new FileNotFoundException($"{path}: symbolic link to a missing file", path);
            if (target is DirectoryInfo) throw new InvalidDataException($"{path}: is a directory, expected a file");
            file = new FileInfo(target.FullName);
        }
        if (!file.Exists) throw new FileNotFoundException($"{path}: file not found", path);
        if (file.Length == 0 && !allowEmpty)
            throw new InvalidDataException($"{path}: empty or not a regular file (FIFOs, sockets and devices are not read)");
        if (file.Length > maxBytes)
            throw new InvalidDataException($"{path}: {file.Length:N0} bytes is over the limit of {maxBytes:N0} for this file");
        return file;
    }

    /// <summary>Opens a checked file for reading; an empty or special file yields an empty stream without being opened.</summary>
    public static Stream OpenRead(string path, long maxBytes = InputLimits.Unbounded, bool allowEmpty = false)
    {
        var file = Check(path, maxBytes, allowEmpty);
        return file.Length == 0 ? Stream.Null : Open(path);
    }

    /// <summary>All bytes of a checked file: exactly its reported size, never more.</summary>
    public static byte[] ReadAllBytes(string path, long maxBytes)
    {
        var file = Check(path, maxBytes);
        if (file.Length > Array.MaxLength) throw new InvalidDataException($"{path}: {file.Length:N0} bytes is too large to read at once");
        var bytes = new byte[file.Length];
        using var stream = Open(path);
        var read = stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
        return read == bytes.Length ? bytes : bytes[..read];
    }

    /// <summary>A checked file as text: strict UTF-8 (a leading byte-order mark is dropped), invalid bytes reported by offset.</summary>
    public static string ReadAllText(string path, long maxBytes) => Utf8Text.Decode(ReadAllBytes(path, maxBytes), path);

    /// <summary>Checks a file is readable strict UTF-8 without holding it: streamed, so large corpora cost no memory.</summary>
    public static void CheckUtf8(string path, long maxBytes)
    {
        Check(path, maxBytes);
        using var stream = Open(path);
        var buffer = new byte[1 << 20];
        var chars = new char[buffer.Length];
        int carried = 0, read;
        long offset = 0;
        while ((read = stream.Read(buffer, carried, buffer.Length - carried)) > 0 || carried > 0)
        {
            var length = carried + read;
            var final = read == 0;
            var status = Utf8.ToUtf16(buffer.AsSpan(0, length), chars, out var consumed, out _, replaceInvalidSequences: false, isFinalBlock: final);
            if (status == OperationStatus.InvalidData || (final && status != OperationStatus.Done))
                Utf8Text.Decode(buffer.AsSpan(0, length), path, offset);   // throws with the exact offset
            if (final) return;
            buffer.AsSpan(consumed, length - consumed).CopyTo(buffer);
            carried = length - consumed;
            offset += consumed;
        }
    }

    private static FileStream Open(string path)
    {
        try { return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16); }
        catch (UnauthorizedAccessException) { throw new InvalidDataException($"{path}: permission denied"); }
    }
}

/// <summary>Strict UTF-8 decoding that names the byte offset of the first invalid sequence.</summary>
public static class Utf8Text
{
    public static string Decode(ReadOnlySpan<byte> bytes, string source, long startOffset = 0)
    {
        var skip = startOffset == 0 && bytes.StartsWith("\uFEFF"u8) ? 3 : 0;
        var input = bytes[skip..];
        var chars = ArrayPool<char>.Shared.Rent(Math.Max(1, input.Length));
        try
        {
            var status = Utf8.ToUtf16(input, chars, out var read, out var written, replaceInvalidSequences: false);
            if (status == System.Buffers.OperationStatus.Done) return new string(chars, 0, written);
            var offset = startOffset + skip + read;
            throw new InvalidDataException(read < input.Length
                ? $"{source}: invalid UTF-8 at byte {offset} (0x{input[read]:X2})"
                : $"{source}: invalid UTF-8 at byte {offset} (truncated sequence at the end)");
        }
        finally { ArrayPool<char>.Shared.Return(chars); }
    }
}
