using System.Globalization;
using MultiTeacher.Reporting;
using MultiTeacher.Data;
using MultiTeacher.Jobs;
using MultiTeacher.Lineage;
using MultiTeacher.Recipes;
using MultiTeacher.Teachers;
using static MultiTeacher.Dashboard.Html;

namespace MultiTeacher.Dashboard.Pages;

/// <summary>A sample text coloured by the teacher that dominated the blend at each token, to see the mixing policy at work.</summary>
public static class ContributionPage
{
    public static string Render(LineageStore store, long runId, string? text, string cacheRoot)
    {
        var recipe = RecipeLoader.LoadResolved(store.ResolvedRecipe(runId)!, out _);
        if (recipe.Teachers.Count == 0) return Page($"Run {runId}: teacher contribution", "<p>This run has no teachers.</p>");
        text = string.IsNullOrWhiteSpace(text) ? Sample(recipe) : text;
        var tokens = TeacherContribution.Compute(recipe, text, cacheRoot);
        var colour = recipe.Teachers.Select((t, k) => (t.Name, LineChart.Palette[k % LineChart.Palette.Length])).ToDictionary(x => x.Name, x => x.Item2);
        var spans = string.Concat(tokens.Select(t => t.Dominant is { } d
            ? $"<span class=\"tok\" data-teacher=\"{E(d)}\" style=\"background:{colour[d]}33;border-bottom:2px solid {colour[d]}\" title=\"{E(string.Join(", ", t.Weights.Select(w => $"{w.Key} {w.Value.ToString("F2", CultureInfo.InvariantCulture)}")))}\">{E(t.Text)}</span>"
            : $"<span class=\"tok\">{E(t.Text)}</span>"));
        var legend = string.Concat(colour.Select(c => $"<span style=\"border-bottom:3px solid {c.Value};margin-right:14px\">{E(c.Key)}: {tokens.Count(t => t.Dominant == c.Key)} tokens</span>"));
        var body = $"""
            <p>mixing policy <b>{E(MultiTeacher.Settings.SettingNames.Of(recipe.Mixing.Policy))}</b>; each token is coloured by the teacher with the largest weight when predicting it (hover for all weights); uncoloured tokens have no aligned teacher.</p>
            <form method="get"><textarea name="text" rows="4" cols="100">{E(text)}</textarea><br><button>show</button></form>
            <p id="legend">{legend}</p>
            <div id="contribution" style="white-space:pre-wrap;line-height:1.9;font-size:15px">{spans}</div>
            """;
        return Page($"Run {runId}: teacher contribution", body);
    }

    private static string Sample(Recipe recipe)
    {
        var documents = TextCorpus.Load(recipe.Data.Eval ?? recipe.Data.Train, recipe.Data.Format, recipe.Data.Field);
        var first = documents.FirstOrDefault(d => d.Length > 0) ?? "";
        return first[..Math.Min(400, first.Length)];
    }
}
