using System.Security.Cryptography;
using System.Text;

namespace MultiTeacher.Recipes;

/// <summary>sha256 of a file, or of a directory's files (relative paths and contents, in ordinal order).</summary>
public static class ContentHash
{
    public static string Of(string path)
    {
        if (File.Exists(path)) return OfFile(path);
        if (!Directory.Exists(path)) throw new FileNotFoundException($"{path} does not exist", path);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var file in Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            sha.AppendData(Encoding.UTF8.GetBytes(Path.GetRelativePath(path, file).Replace('\\', '/') + "\n"));
            sha.AppendData(Convert.FromHexString(OfFile(file)));
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    public static string OfText(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    public static string OfFile(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
