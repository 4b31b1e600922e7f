using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Extensions;

namespace MultiTeacher.Dashboard;

/// <summary>
/// Checks made before any page runs: the Host header must name this dashboard (a page on another
/// origin whose name resolves to 127.0.0.1 — DNS rebinding — would otherwise read pages and form
/// tokens as if it were same-origin), and a ?token= in a URL is exchanged for the cookie and removed
/// from the address bar, history and Referer by a redirect.
/// </summary>
public static class RequestGuards
{
    /// <summary>Names always accepted: the loopback names.</summary>
    public static readonly IReadOnlyList<string> LoopbackNames = ["localhost", "127.0.0.1", "[::1]"];

    /// <summary>The host names requests may carry: loopback, the hosts of the listening addresses (not wildcards), and extra names.</summary>
    public static HashSet<string> AllowedHosts(DashboardSettings settings)
    {
        var hosts = new HashSet<string>(LoopbackNames, StringComparer.OrdinalIgnoreCase);
        foreach (var url in settings.Urls)
            if (Uri.TryCreate(url, UriKind.Absolute, out var uri) && !IsWildcard(uri.Host)) hosts.Add(Bracketed(uri.Host));
        foreach (var name in settings.AllowedHosts) hosts.Add(Bracketed(name.Trim()));
        return hosts;
    }

    public static bool HostAllowed(HttpRequest request, IReadOnlySet<string> allowed) =>
        request.Host.HasValue && allowed.Contains(Bracketed(request.Host.Host));

    /// <summary>The same URL without the token parameter, when the request carried one.</summary>
    public static string? WithoutToken(HttpRequest request)
    {
        if (!request.Query.ContainsKey("token") || !(HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method))) return null;
        var query = new QueryBuilder(request.Query.Where(q => q.Key != "token").SelectMany(q => q.Value.Select(v => new KeyValuePair<string, string>(q.Key, v ?? ""))));
        return $"{request.PathBase}{request.Path}{query.ToQueryString()}";
    }

    private static bool IsWildcard(string host) => host is "0.0.0.0" or "[::]" or "::" or "*" or "+";

    private static string Bracketed(string host) =>
        IPAddress.TryParse(host.Trim('[', ']'), out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{host.Trim('[', ']')}]" : host;
}
