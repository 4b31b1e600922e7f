using System.Text.RegularExpressions;

namespace MultiTeacher.Models;

/// <summary>
/// Finds models named by Hugging Face id (org/name) in the local Hugging Face cache, laid out as
/// huggingface_hub writes it: ROOT/models--org--name/snapshots/REV, refs/main naming REV. Nothing is
/// ever downloaded; a model not in the cache is an error naming where it was looked for.
/// </summary>
public static partial class HubCache
{
    /// <summary>$HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub, as huggingface_hub decides.</summary>
    public static string Root()
    {
        if (Environment.GetEnvironmentVariable("HF_HUB_CACHE") is { Length: > 0 } hub) return hub;
        if (Environment.GetEnvironmentVariable("HF_HOME") is { Length: > 0 } home) return Path.Combine(home, "hub");
        return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "huggingface", "hub");
    }

    /// <summary>Whether the text has the shape of a Hugging Face model id: org/name, nothing more.</summary>
    public static bool IsModelId(string text) => ModelId().IsMatch(text);

    /// <summary>The cache folder of a model id (it may not exist).</summary>
    public static string RepositoryDirectory(string id) => Path.Combine(Root(), "models--" + id.Replace("/", "--"));

    /// <summary>The snapshot directory of a cached model: the one refs/main names, else the only or newest snapshot; null when absent.</summary>
    public static string? Find(string id)
    {
        var snapshots = Path.Combine(RepositoryDirectory(id), "snapshots");
        if (!Directory.Exists(snapshots)) return null;
        var main = Path.Combine(RepositoryDirectory(id), "refs", "main");
        if (File.Exists(main) && Path.Combine(snapshots, File.ReadAllText(main).Trim()) is var named && Directory.Exists(named)) return named;
        return new DirectoryInfo(snapshots).GetDirectories().OrderByDescending(d => d.LastWriteTimeUtc).FirstOrDefault()?.FullName;
    }

    /// <summary>Why a model id could not be found, naming the folder looked in.</summary>
    public static string Missing(string id) =>
        $"{id} is not in the Hugging Face cache ({RepositoryDirectory(id)} has no snapshot; set HF_HUB_CACHE or HF_HOME, or download it, e.g. `huggingface-cli download {id}`)";

    /// <summary>An existing path as given, else the cached snapshot of a model id; a clear error otherwise.</summary>
    public static string Local(string pathOrId)
    {
        if (File.Exists(pathOrId) || Directory.Exists(pathOrId) || !IsModelId(pathOrId)) return pathOrId;
        return Find(pathOrId) ?? throw new DirectoryNotFoundException($"{pathOrId} does not exist, and {Missing(pathOrId)}");
    }

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9_.\-]*/[A-Za-z0-9][A-Za-z0-9_.\-]*$")]
    private static partial Regex ModelId();
}
