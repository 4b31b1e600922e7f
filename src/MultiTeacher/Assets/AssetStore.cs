using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;

namespace MultiTeacher.Assets;

/// <summary>
/// The local asset cache: fetches pinned npm packages with `npm pack`, verifies their sha256 and
/// unpacks the listed files. After a fetch everything runs offline.
/// </summary>
public sealed class AssetStore(string root)
{
    public const string CompletionMarker = ".manifest-sha256";

    public string Root { get; } = Path.GetFullPath(root);

    /// <summary>MT_ASSETS, else $XDG_CACHE_HOME/multiteacher/assets, else ~/.cache/multiteacher/assets.</summary>
    public static string DefaultRoot()
    {
        var env = Environment.GetEnvironmentVariable("MT_ASSETS");
        if (!string.IsNullOrEmpty(env)) return env;
        var cache = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        if (string.IsNullOrEmpty(cache))
            cache = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(cache, "multiteacher", "assets");
    }

    public static AssetStore Default() => new(DefaultRoot());

    public string PathOf(string assetName) => Path.Combine(Root, assetName);

    /// <summary>Directory of a fetched asset, or a clear error telling how to fetch it.</summary>
    public string Require(string assetName)
    {
        var dir = PathOf(assetName);
        if (!Directory.Exists(dir) || !File.Exists(Path.Combine(dir, ".sha256")))
            throw new FileNotFoundException(
                $"asset '{assetName}' is not in {Root}; run `mt assets fetch` (or scripts/bootstrap.sh) first", dir);
        return dir;
    }

    public bool IsComplete()
    {
        var marker = Path.Combine(Root, CompletionMarker);
        return File.Exists(marker)
            && File.ReadAllText(marker).Trim() == AssetManifest.Sha256Hex(AssetManifest.EmbeddedBytes());
    }

    /// <summary>Fetches every asset whose recorded hash differs from the manifest.</summary>
    public void FetchAll(TextWriter log)
    {
        Directory.CreateDirectory(Root);
        foreach (var entry in AssetManifest.Load().Assets)
        {
            var stamp = Path.Combine(PathOf(entry.Name), ".sha256");
            if (File.Exists(stamp) && File.ReadAllText(stamp).Trim() == entry.Sha256)
            {
                log.WriteLine($"ok       {entry.Name} ({entry.Package}@{entry.Version})");
                continue;
            }
            log.WriteLine($"fetching {entry.Name} ({entry.Package}@{entry.Version})");
            Fetch(entry);
        }
        File.WriteAllText(Path.Combine(Root, CompletionMarker), AssetManifest.Sha256Hex(AssetManifest.EmbeddedBytes()));
    }

    private void Fetch(AssetEntry entry)
    {
        var work = Path.Combine(Root, ".download", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(work);
        try
        {
            var tgz = NpmPack($"{entry.Package}@{entry.Version}", work);
            var actual = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(tgz)));
            if (actual != entry.Sha256)
                throw new InvalidDataException(
                    $"{entry.Package}@{entry.Version}: sha256 {actual} does not match the pinned {entry.Sha256}");

            // Unpack next to the target, then swap, so an interrupted fetch never leaves a half asset.
            var staging = Path.Combine(work, "staging");
            Directory.CreateDirectory(staging);
            var extracted = Extract(tgz, entry.Extract, staging);
            if (extracted == 0)
                throw new InvalidDataException($"{entry.Package}@{entry.Version}: no listed file was found in the package");
            File.WriteAllText(Path.Combine(staging, ".sha256"), entry.Sha256);

            var target = PathOf(entry.Name);
            if (Directory.Exists(target)) Directory.Delete(target, recursive: true);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            Directory.Move(staging, target);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static int Extract(string tgz, Dictionary<string, string> map, string destination)
    {
        using var file = File.OpenRead(tgz);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var tar = new TarReader(gzip);
        var count = 0;
        while (tar.GetNextEntry() is { } item)
        {
            if (item.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile)) continue;
            var target = MapPath(item.Name, map);
            if (target is null) continue;
            var full = Path.GetFullPath(Path.Combine(destination, target));
            if (!full.StartsWith(Path.GetFullPath(destination) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                throw new InvalidDataException($"package entry '{item.Name}' escapes the asset directory");
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            item.ExtractToFile(full, overwrite: true);
            count++;
        }
        return count;
    }

    // A key ending in '/' maps a whole folder (prefix); any other key maps exactly one file.
    private static string? MapPath(string entryName, Dictionary<string, string> map)
    {
        foreach (var (from, to) in map)
        {
            if (from.EndsWith('/'))
            {
                if (entryName.StartsWith(from, StringComparison.Ordinal) && entryName.Length > from.Length)
                    return Path.Combine(to, entryName[from.Length..]);
            }
            else if (entryName == from) return to;
        }
        return null;
    }

    private static string NpmPack(string spec, string workDir)
    {
        var psi = new ProcessStartInfo("npm", ["pack", spec, "--silent", "--pack-destination", workDir])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workDir,
        };
        using var process = Process.Start(psi)
            ?? throw new InvalidOperationException("could not start npm; install Node.js and npm");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"npm pack {spec} failed (exit {process.ExitCode}): {stderr.Trim()}");
        var tgz = Directory.GetFiles(workDir, "*.tgz").SingleOrDefault()
            ?? throw new InvalidOperationException($"npm pack {spec} produced no .tgz: {stdout.Result.Trim()}");
        return tgz;
    }
}
