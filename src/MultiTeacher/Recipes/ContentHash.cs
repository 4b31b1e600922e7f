using System.Security.Cryptography;
using System.Text;
using MultiTeacher.Inputs;

namespace MultiTeacher.Recipes;

/// <summary>sha256 of a file, or of a directory's files (relative paths and contents, in ordinal order).</summary>
public static class ContentHash
{
    /// <param name="ofFile">How each file is hashed (default: <see cref="OfFile"/>), e.g. remembered by a long-lived worker.</param>
    public static string Of(string path, Func<string, string>? ofFile = null)
    {
        if (Directory.Exists(path)) return OfManifest(Manifest(path, ofFile));
        return (ofFile ?? OfFile)(path);
    }

    /// <summary>Every file of a directory by relative path (with '/'), with its sha256, in ordinal order.</summary>
    public static SortedDictionary<string, string> Manifest(string directory, Func<string, string>? ofFile = null)
    {
        if (!Directory.Exists(directory)) throw new FileNotFoundException($"{directory} does not exist", directory);
        var manifest = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories))
            manifest[Path.GetRelativePath(directory, file).Replace('\\', '/')] = (ofFile ?? OfFile)(file);
        return manifest;
    }

    /// <summary>The directory hash from its manifest: sha256 over each relative path and its file's hash.</summary>
    public static string OfManifest(IEnumerable<KeyValuePair<string, string>> manifest)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (relative, hash) in manifest.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            sha.AppendData(Encoding.UTF8.GetBytes(relative + "\n"));
            sha.AppendData(Convert.FromHexString(hash));
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    public static string OfText(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    public static string OfFile(string path)
    {
        // Empty files are legitimate members of a model directory; special files hash as empty, unread.
        using var stream = InputFile.OpenRead(path, allowEmpty: true);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
