using System.Globalization;
using MultiTeacher.Reporting;
using MultiTeacher.Data;
using MultiTeacher.Lineage;
using MultiTeacher.Recipes;
using MultiTeacher.Teachers;
using static MultiTeacher.Dashboard.Html;

namespace MultiTeacher.Dashboard.Pages;

/// <summary>
/// A text coloured by the teacher that dominated the blend at each token, to see the mixing policy
/// at work. The text (the first held-out document, or one typed in) is shown a page at a time; the
/// page says which part of how much is shown and links to the others.
/// </summary>
public static class ContributionPage
{
    /// <summary>Characters per page: about what the teachers score in a second on a CPU.</summary>
    public const int PageChars = 400;

    public static string Render(LineageStore store, long runId, string? text, int page, string cacheRoot)
    {
        var recipe = RecipeLoader.LoadResolved(store.ResolvedRecipe(runId)!, out _);
        if (recipe.Teachers.Count == 0) return Page($"Run {runId}: teacher contribution", "<p>This run has no teachers.</p>");
        var typed = !string.IsNullOrWhiteSpace(text);
        var whole = typed ? text! : Sample(recipe);
        var pages = TextPages.Split(whole, PageChars);
        page = Math.Clamp(page, 1, pages.Count);
        var (start, length) = pages[page - 1];
        var tokens = TeacherContribution.Compute(recipe, whole.Substring(start, length), cacheRoot);
        var palette = new TeacherPalette(store.TeacherNames());
        var colour = recipe.Teachers.ToDictionary(t => t.Name, t => palette.Colour(t.Name));
        var spans = string.Concat(tokens.Select(t => t.Dominant is { } d
            ? $"<span class=\"tok\" data-teacher=\"{E(d)}\" style=\"background:{colour[d]}33;border-bottom:2px solid {colour[d]}\" title=\"{E(string.Join(", ", t.Weights.Select(w => $"{w.Key} {w.Value.ToString("F2", CultureInfo.InvariantCulture)}")))}\">{E(t.Text)}</span>"
            : $"<span class=\"tok\">{E(t.Text)}</span>"));
        var legend = string.Concat(colour.Select(c => $"<span style=\"border-bottom:3px solid {c.Value};margin-right:14px\">{E(c.Key)}: {tokens.Count(t => t.Dominant == c.Key)} tokens</span>"));
        string Link(int p, string label) => $"<a class=\"page-{label}\" href=\"?page={p}{(typed ? "&text=" + Uri.EscapeDataString(whole) : "")}\">{label}</a>";
        var extent = pages.Count == 1 ? $"the whole text ({whole.Length:N0} characters)"
            : $"characters {start + 1:N0}–{start + length:N0} of {whole.Length:N0}: the text was cut into {pages.Count} pages of about {PageChars} characters, each scored on its own";
        var pager = $"<p id=\"pager\">page {page} of {pages.Count} · {extent}"
            + (page > 1 ? " · " + Link(page - 1, "previous") : "") + (page < pages.Count ? " · " + Link(page + 1, "next") : "") + "</p>";
        var body = $"""
            <p>mixing policy <b>{E(MultiTeacher.Settings.SettingNames.Of(recipe.Mixing.Policy))}</b>; each token is coloured by the teacher with the largest weight when predicting it (hover for all weights); uncoloured tokens have no aligned teacher.</p>
            <form method="get"><textarea name="text" rows="4" cols="100">{E(typed ? whole : "")}</textarea><br><button>show</button></form>
            <p id="legend">{legend}</p>
            {pager}
            <div id="contribution" style="white-space:pre-wrap;line-height:1.9;font-size:15px">{spans}</div>
            """;
        return Page($"Run {runId}: teacher contribution", body);
    }

    private static string Sample(Recipe recipe) =>
        TextCorpus.Load(recipe.Data.Eval ?? recipe.Data.Train, recipe.Data.Format, recipe.Data.Field).FirstOrDefault(d => d.Length > 0) ?? "";
}
