using System.Globalization;
using System.Text.Json;
using MultiTeacher.Lineage;
using MultiTeacher.Recipes;

namespace MultiTeacher.Dashboard;

/// <summary>What the runs table and compare page say about a run beyond its row: the student's name and how long it took.</summary>
public static class RunFacts
{
    /// <summary>
    /// The student as its resolved recipe names it: the model it starts from (directory name or
    /// Hugging Face id), else its config's _name_or_path, else its architecture from the config
    /// (model type, layers x hidden size). Empty when the run has no readable recipe.
    /// </summary>
    public static string StudentName(string? resolvedYaml)
    {
        if (resolvedYaml is null || RecipeLoader.ReadResolved(resolvedYaml, out _).Recipe is not { } recipe) return "";
        if (recipe.Student.Init is { } init) return Path.GetFileName(init.TrimEnd('/', Path.DirectorySeparatorChar)) is { Length: > 0 } dir ? dir : init;
        if (recipe.Student.Config is not { } config) return "";
        try
        {
            using var json = JsonDocument.Parse(File.ReadAllBytes(config));
            var root = json.RootElement;
            if (root.TryGetProperty("_name_or_path", out var name) && name.GetString() is { Length: > 0 } n) return n;
            string Int(string key) => root.TryGetProperty(key, out var v) && v.TryGetInt64(out var i) ? i.ToString(CultureInfo.InvariantCulture) : "?";
            var type = root.TryGetProperty("model_type", out var t) ? t.GetString() : "model";
            return $"{type} {Int("num_hidden_layers")}×{Int("hidden_size")} (new)";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return Path.GetFileNameWithoutExtension(config);   // the config is gone or unreadable: its name is all there is
        }
    }

    /// <summary>From creation to the end (or to now while the run is live).</summary>
    public static TimeSpan Duration(RunSummary run, DateTime now) => (run.FinishedAt ?? now) - run.CreatedAt;

    /// <summary>A duration as people read it: 42 s, 3 min 05 s, 2 h 07 min.</summary>
    public static string Format(TimeSpan d) => d.TotalSeconds < 60 ? $"{d.TotalSeconds:F0} s"
        : d.TotalMinutes < 60 ? $"{(int)d.TotalMinutes} min {d.Seconds:D2} s" : $"{(int)d.TotalHours} h {d.Minutes:D2} min";
}
