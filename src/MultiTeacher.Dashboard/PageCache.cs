using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace MultiTeacher.Dashboard;

/// <summary>
/// Rendered pages and JSON kept while what they show stands. Each entry is stored with the version
/// it was rendered at (for a run, <see cref="Lineage.LineageStore.RunVersion"/>): a request whose
/// version matches is answered from memory, and with 304 when the browser already holds it (its
/// If-None-Match names the entry's ETag). A live run's page and charts change at every logged step;
/// a finished run's stay as they are until an audit is added.
/// </summary>
public sealed class PageCache(int capacity = 256)
{
    /// <summary>
    /// Stands in for the anti-forgery field in a cached page: the field differs per browser, the
    /// rest of the page does not, so the field is put in on the way out.
    /// </summary>
    public const string FormFieldSlot = "\u0001antiforgery\u0001";

    // Part of every ETag, so a restarted dashboard (new code, new anti-forgery keys) never answers 304 to what an earlier one served.
    private readonly string _instance = Guid.NewGuid().ToString("N")[..8];
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    private sealed record Entry(string Version, string Body, string ETag)
    {
        public bool Personal { get; } = Body.Contains(FormFieldSlot, StringComparison.Ordinal);
    }

    /// <summary>Entries held now.</summary>
    public int Count => _entries.Count;

    /// <summary>
    /// The page for <paramref name="key"/> at <paramref name="version"/>: from memory when rendered
    /// at that version before, else rendered (and kept). A page with <see cref="FormFieldSlot"/> gets
    /// <paramref name="formField"/> there and carries no ETag: such a page is never 304.
    /// </summary>
    public IResult Serve(HttpContext context, string key, string version, string contentType, Func<string> render, Func<string>? formField = null)
    {
        if (!_entries.TryGetValue(key, out var entry) || entry.Version != version)
        {
            var body = render();
            entry = new Entry(version, body, ETagOf(key, version));
            // Past capacity everything goes: entries are cheap to render again, and a bound keeps a crawl over every run from holding them all.
            if (_entries.Count >= capacity) _entries.Clear();
            _entries[key] = entry;
        }
        var headers = context.Response.Headers;
        // Anti-forgery marks a page with a token no-store itself (and warns when it finds another Cache-Control).
        if (entry.Personal)
        {
            return Results.Content(entry.Body.Replace(FormFieldSlot, formField?.Invoke() ?? "", StringComparison.Ordinal), contentType);
        }
        // no-cache: the browser keeps the copy but asks each time; the answer is a 304 while the run has not moved.
        headers.CacheControl = "no-cache";
        headers.ETag = entry.ETag;
        if (context.Request.Headers.IfNoneMatch.Any(v => v is not null && v.Split(',').Any(t => t.Trim() == entry.ETag || t.Trim() == "*")))
            return Results.StatusCode(StatusCodes.Status304NotModified);
        return Results.Content(entry.Body, contentType);
    }

    private string ETagOf(string key, string version) =>
        $"\"{_instance}-{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{key}\n{version}")))[..24]}\"";
}
