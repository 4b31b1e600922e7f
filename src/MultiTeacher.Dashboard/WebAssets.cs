using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;
using MultiTeacher.Assets;

namespace MultiTeacher.Dashboard;

/// <summary>
/// The browser code the dashboard serves itself, never from a CDN: its own scripts (embedded in this
/// assembly, under /static/) and the pinned charting and graph-layout libraries from the asset cache
/// (web/uplot, web/dagre, fetched by `mt assets fetch`), under /vendor/.
/// </summary>
public static class WebAssets
{
    /// <summary>The vendor files pages load, by URL path, with the asset and file they come from.</summary>
    public static readonly IReadOnlyDictionary<string, (string Asset, string File)> Vendor = new Dictionary<string, (string, string)>
    {
        ["/vendor/uplot/uPlot.iife.min.js"] = ("web/uplot", "uPlot.iife.min.js"),
        ["/vendor/uplot/uPlot.min.css"] = ("web/uplot", "uPlot.min.css"),
        ["/vendor/dagre/dagre.min.js"] = ("web/dagre", "dagre.min.js"),
    };

    /// <summary>How long browsers keep the vendor files without asking again: a year.</summary>
    public const int VendorMaxAge = 365 * 24 * 3600;

    /// <summary>Whether a request is for a static file (vendor library or the dashboard's own script), which needs no database.</summary>
    public static bool IsStatic(PathString path) => path.StartsWithSegments("/vendor") || path.StartsWithSegments("/static");

    private static readonly string[] Scripts = ["charts.js", "lineage.js", "runs.js"];

    public static void Map(WebApplication app, string assetRoot)
    {
        var store = new AssetStore(assetRoot);
        foreach (var (path, (asset, file)) in Vendor)
            app.MapGet(path, (HttpContext context) =>
            {
                // Looked up per request, so a dashboard started before `mt assets fetch` serves the files once they are there.
                var full = Path.Combine(store.PathOf(asset), file);
                if (!File.Exists(full)) return Results.NotFound($"{asset} is not in {store.Root}; run `mt assets fetch`");
                // Pinned by hash in the asset manifest: a file at this path never changes.
                context.Response.Headers.CacheControl = $"public, max-age={VendorMaxAge}, immutable";
                return Results.File(full, ContentType(file));
            });
        foreach (var script in Scripts)
        {
            var bytes = Encoding.UTF8.GetBytes(Embedded(script));
            var etag = new EntityTagHeaderValue($"\"{Convert.ToHexStringLower(SHA256.HashData(bytes))[..16]}\"");
            // The scripts change with the dashboard's version: kept by the browser, but checked (and answered 304) on each load.
            app.MapGet($"/static/{script}", (HttpContext context) =>
            {
                context.Response.Headers.CacheControl = "no-cache";
                return Results.Bytes(bytes, "text/javascript; charset=utf-8", entityTag: etag);
            });
        }
    }

    /// <summary>The script and style tags a page needs for charts, for the lineage graph, or both.</summary>
    public static string Tags(bool charts = false, bool lineage = false, bool runs = false) => string.Concat(
        charts ? "<link rel=\"stylesheet\" href=\"/vendor/uplot/uPlot.min.css\"><script defer src=\"/vendor/uplot/uPlot.iife.min.js\"></script><script defer src=\"/static/charts.js\"></script>" : "",
        lineage ? "<script defer src=\"/vendor/dagre/dagre.min.js\"></script><script defer src=\"/static/lineage.js\"></script>" : "",
        runs ? "<script defer src=\"/static/runs.js\"></script>" : "");

    private static string ContentType(string file) => file.EndsWith(".css", StringComparison.Ordinal) ? "text/css; charset=utf-8" : "text/javascript; charset=utf-8";

    private static string Embedded(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream($"MultiTeacher.Dashboard.Static.{name}")
            ?? throw new InvalidOperationException($"embedded script {name} is missing from the dashboard assembly");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
