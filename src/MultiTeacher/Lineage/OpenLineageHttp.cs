using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace MultiTeacher.Lineage;

/// <summary>The endpoint refused an event (non-2xx) or could not be reached: how many of the events arrived, and why the rest did not.</summary>
public sealed class OpenLineageDeliveryException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Sends OpenLineage RunEvents to a Marquez-compatible endpoint: one POST {URL}/api/v1/lineage per
/// event with the event as an application/json body, in order, stopping at the first refusal so the
/// endpoint never sees a COMPLETE whose START it did not accept.
/// </summary>
public static class OpenLineageHttp
{
    public const string LineagePath = "api/v1/lineage";

    /// <summary>{URL}/api/v1/lineage for an absolute http(s) URL; a clear error for anything else.</summary>
    public static Uri Endpoint(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var root) || (root.Scheme != Uri.UriSchemeHttp && root.Scheme != Uri.UriSchemeHttps))
            throw new BadInputException($"--url must be an absolute http:// or https:// URL, got '{url}'");
        return new Uri(root.AbsoluteUri.TrimEnd('/') + "/" + LineagePath);
    }

    /// <summary>POSTs every event in order; returns how many arrived (all of them, or it throws).</summary>
    public static int Post(IReadOnlyList<JsonObject> events, string url, HttpClient? client = null)
    {
        var endpoint = Endpoint(url);
        using var owned = client is null ? new HttpClient { Timeout = TimeSpan.FromSeconds(30) } : null;
        var http = client ?? owned!;
        for (var k = 0; k < events.Count; k++)
        {
            var what = $"event {k + 1} of {events.Count} ({events[k]["eventType"]} {events[k]["job"]?["name"]})";
            using var request = new HttpRequestMessage(HttpMethod.Post, endpoint)
            {
                Content = new StringContent(events[k].ToJsonString(), new MediaTypeHeaderValue("application/json")),
            };
            HttpResponseMessage response;
            try { response = http.Send(request); }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                throw new OpenLineageDeliveryException($"{endpoint} could not be reached for {what}: {e.Message}; {k} delivered", e);
            }
            using (response)
                if (!response.IsSuccessStatusCode)
                    throw new OpenLineageDeliveryException($"{endpoint} answered {(int)response.StatusCode} {response.ReasonPhrase} to {what}; {k} delivered");
        }
        return events.Count;
    }
}
