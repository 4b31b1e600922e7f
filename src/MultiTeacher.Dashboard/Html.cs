using System.Text;
using static System.Net.WebUtility;
using MultiTeacher.Runs;

namespace MultiTeacher.Dashboard;

/// <summary>The page frame and encoding helpers; every value from the database goes through <see cref="E"/>.</summary>
public static class Html
{
    public static string E(object? value) => HtmlEncode(value?.ToString() ?? "");

    /// <summary>A run or stage status as a span the style sheet colours (class status-NAME).</summary>
    public static string Status<T>(T status) where T : struct, Enum => $"<span class=\"status-{Spelling.Of(status)}\">{Spelling.Of(status)}</span>";

    /// <summary>A whole page; head carries the page's script and style tags (deferred), script runs once they have loaded.</summary>
    public static string Page(string title, string body, string? script = null, string head = "") => $$"""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>{{E(title)}} · MultiTeacher</title>
        <style>
          body { font: 14px system-ui, sans-serif; margin: 0 24px 40px; color: #222; }
          nav { padding: 10px 0; border-bottom: 1px solid #ddd; margin-bottom: 14px; }
          nav a { margin-right: 16px; }
          table { border-collapse: collapse; margin: 8px 0 18px; }
          th, td { border-bottom: 1px solid #e4e4e4; padding: 4px 10px; text-align: left; vertical-align: top; }
          th { background: #f6f6f6; }
          pre { background: #f7f7f7; padding: 10px; overflow: auto; max-height: 360px; }
          .status-succeeded { color: #1a7f37; } .status-failed { color: #cf222e; } .status-running, .status-queued { color: #9a6700; }
          .charts { display: flex; flex-wrap: wrap; gap: 12px; }
          code { font-size: 12px; }
          .chart { border: 1px solid #eee; padding: 4px; }
          .why { color: #cf222e; font-size: 12px; max-width: 420px; white-space: pre-wrap; }
          .failure { border-left: 4px solid #cf222e; background: #fff4f4; padding: 8px 12px; white-space: pre-wrap; }
          th[aria-sort=ascending]::after { content: " ▲"; } th[aria-sort=descending]::after { content: " ▼"; }
        </style>{{head}}</head>
        <body><nav><a href="/">Runs</a><a href="/hangfire">Hangfire</a></nav>
        <h1>{{E(title)}}</h1>
        {{body}}
        {{(script is null ? "" : $"<script>document.addEventListener(\"DOMContentLoaded\", () => {{ {script} }});</script>")}}
        </body></html>
        """;

    public static string Table(IEnumerable<string> headers, IEnumerable<IEnumerable<string>> rows, string? id = null)
    {
        var html = new StringBuilder(id is null ? "<table>" : $"<table id=\"{id}\">");
        html.Append("<tr>").AppendJoin("", headers.Select(h => $"<th>{E(h)}</th>")).Append("</tr>");
        foreach (var row in rows) html.Append("<tr>").AppendJoin("", row.Select(c => $"<td>{c}</td>")).Append("</tr>");
        return html.Append("</table>").ToString();
    }
}
