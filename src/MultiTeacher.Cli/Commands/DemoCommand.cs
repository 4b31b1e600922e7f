using System.CommandLine;
using System.Diagnostics;
using System.Text;
using MultiTeacher.Alignment;
using MultiTeacher.Assets;
using MultiTeacher.Corpora;
using MultiTeacher.Data;
using MultiTeacher.Evaluation;
using MultiTeacher.Models;
using MultiTeacher.Recipes;
using MultiTeacher.Tokenization;
using Spectre.Console;

namespace MultiTeacher.Cli.Commands;

/// <summary>`mt demo`: the end-to-end showcase on the pinned assets (currently the tokenizer stage).</summary>
public static class DemoCommand
{
    private static readonly IReadOnlyList<string> Families = AssetManifest.TokenizerFamilies();

    private static readonly string[] Recipes = ["teacher-press", "teacher-learned", "teacher-fiction", "student-baseline", "student-fused"];

    public static Command Create(CliIO io)
    {
        var assets = new Option<string>("--assets") { Description = "Asset directory (default: $MT_ASSETS or ~/.cache/multiteacher/assets)" };
        var work = new Option<string>("--work") { Description = "Demo working directory (default: $MT_DEMO or ./runs/demo)" };
        var recipes = new Option<string>("--recipes") { Description = "Directory of the demo recipes (default: recipes/demo of this repository)" };
        var command = new Command("demo",
            "The showcase: three teachers with three vocabularies trained on three Brown genres, distilled into one student, against a hard-label baseline.")
            { assets, work, recipes };
        command.SetAction((r, cancel) =>
        {
            var store = new AssetStore(r.GetValue(assets) ?? AssetStore.DefaultRoot());
            var root = Path.GetFullPath(r.GetValue(work) ?? Environment.GetEnvironmentVariable("MT_DEMO") ?? Path.Combine("runs", "demo"));
            Environment.SetEnvironmentVariable("MT_ASSETS", store.Root);
            Environment.SetEnvironmentVariable("MT_DEMO", root);
            ShowTokenizers(store, io);
            var recipeDir = r.GetValue(recipes) ?? FindRecipes();
            return Task.FromResult(Train(store, root, recipeDir, io, cancel));
        });
        return command;
    }

    /// <summary>recipes/NAME of this repository, searched upwards from the working directory and from the program.</summary>
    public static string FindRecipes(string name = "demo")
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (Directory.Exists(Path.Combine(dir.FullName, "recipes", name))) return Path.Combine(dir.FullName, "recipes", name);
        throw new BadInputException($"cannot find recipes/{name}; run from the repository or pass --recipes DIR");
    }

    private static int Train(AssetStore store, string root, string recipeDir, CliIO io, CancellationToken cancel)
    {
        DemoData.Write(store.Require("corpora/brown"), root);
        io.Out.WriteLine($"\nTraining (data and runs under {root}):");
        var students = new Dictionary<string, (string Directory, HfTokenizer Tokenizer)>();
        // Every step is a real run: submitted as Hangfire jobs, executed by an in-process worker, recorded in lineage.
        using var jobs = new LocalJobs("demo");
        var runIds = new Dictionary<string, long>();
        foreach (var name in Recipes)
        {
            var recipe = RecipeLoader.Load(Path.Combine(recipeDir, $"{name}.yaml"));
            var watch = Stopwatch.StartNew();
            var (runId, loss) = jobs.Run(name, recipe, cancel);
            var teachers = recipe.Teachers.Count == 0 ? "hard labels only" : $"{recipe.Teachers.Count} teachers, {recipe.Mixing.Policy} mixing";
            io.Out.WriteLine($"  {name,-17} run {runId,-4} {recipe.Train.Steps} steps, {teachers}: loss {loss[0].Loss:F3} → {loss[^1].Loss:F3} in {watch.Elapsed.TotalSeconds:F0} s");
            var student = Path.Combine(recipe.Output, "student");
            students[name] = (student, HfTokenizer.FromDirectory(student));
            runIds[name] = runId;
        }

        var table = new Table().Title("Held-out bits per byte (lower is better), same bytes for every model")
            .AddColumns(["model", .. DemoData.Genres.Select(g => g.Name), "all"]);
        foreach (var (name, (dir, tokenizer)) in students)
        {
            using var model = PretrainedModel.Load(dir);
            var cells = new List<string> { name };
            double bits = 0, bytes = 0;
            foreach (var (genre, _) in DemoData.Genres)
            {
                var docs = TextCorpus.Load(Path.Combine(root, "data", $"heldout-{genre}.txt"));
                var result = BitsPerByte.Evaluate(model, tokenizer, docs, 64, 30_000);
                cells.Add(result.BitsPerByte.ToString("F4", System.Globalization.CultureInfo.InvariantCulture));
                (bits, bytes) = (bits + result.BitsPerByte * result.Bytes, bytes + result.Bytes);
            }
            cells.Add((bits / bytes).ToString("F4", System.Globalization.CultureInfo.InvariantCulture));   // all genres, weighted by bytes
            table.AddRow([.. cells]);
        }
        io.Tables().Write(table);
        var fused = runIds["student-fused"];
        io.Out.WriteLine($"\nStudent: {students["student-fused"].Directory} (run {fused})");
        io.Out.WriteLine($"Next: `mt dashboard` (runs, curves, lineage graph, teacher contribution at http://127.0.0.1:5080/runs/{fused}),");
        io.Out.WriteLine($"      `mt lineage {fused}` (which teachers and data made the student), `mt audit {fused}` (replay and verdict),");
        io.Out.WriteLine("      `mt generate --model DIR --prompt TEXT`.");
        return CliApp.Ok;
    }

    private static void ShowTokenizers(AssetStore store, CliIO io)
    {
        var console = io.Tables();
        var tokenizers = Families.ToDictionary(f => f, f => HfTokenizer.FromDirectory(store.Require($"tokenizers/{f}")));
        var documents = BrownCorpus.Read(store.Require("corpora/brown")).ToList();

        var vocab = new Table().Title("Teacher tokenizers").AddColumns("family", "kind", "vocab", "BOS", "EOS", "sha256");
        foreach (var (family, tok) in tokenizers)
            vocab.AddRow(family, tok.Kind.ToString(), tok.VocabSize.ToString("N0"), Describe(tok, tok.Roles.Bos), Describe(tok, tok.Roles.Eos), tok.ContentHash[..12]);
        console.Write(vocab);

        var genres = new Table().Title("Bytes per token on the Brown corpus (higher = more compact)").AddColumn("genre").AddColumn("MB");
        foreach (var family in Families) genres.AddColumn(family);
        var totals = Families.ToDictionary(f => f, _ => (Bytes: 0L, Tokens: 0L, Seconds: 0.0));
        foreach (var group in documents.GroupBy(d => d.GenreCode))
        {
            var text = string.Join("\n", group.Select(d => d.Text));
            var bytes = Encoding.UTF8.GetByteCount(text);
            var row = new List<string> { BrownCorpus.Genres[group.Key], (bytes / 1e6).ToString("F2") };
            foreach (var family in Families)
            {
                var watch = Stopwatch.StartNew();
                var tokens = text.Split('\n').Sum(line => (long)tokenizers[family].EncodeToIds(line, addSpecialTokens: false).Length);
                var t = totals[family];
                totals[family] = (t.Bytes + bytes, t.Tokens + tokens, t.Seconds + watch.Elapsed.TotalSeconds);
                row.Add(((double)bytes / tokens).ToString("F2"));
            }
            genres.AddRow([.. row]);
        }
        genres.AddRow(["all (MB/s single thread)", (totals[Families[0]].Bytes / 1e6).ToString("F2"),
            .. Families.Select(f => $"{(double)totals[f].Bytes / totals[f].Tokens:F2} ({totals[f].Bytes / 1e6 / totals[f].Seconds:F1} MB/s)")]);
        console.Write(genres);

        var sample = documents.First(d => d.GenreCode == 'j').Text.Split('\n').First(l => l.Length > 80);
        sample = sample.Length > 160 ? sample[..sample.LastIndexOf(' ', 160)] : sample;
        io.Out.WriteLine($"\nOne sentence, three vocabularies (token bytes between |):\n  {sample}");
        foreach (var (family, tok) in tokenizers)
        {
            var ids = tok.EncodeToIds(sample, addSpecialTokens: false);
            var pieces = ids.Select(id => Encoding.UTF8.GetString(tok.TokenBytes(id)));
            io.Out.WriteLine($"  {family,-16} {ids.Length,3} tokens |{string.Join("|", pieces)}|");
        }
        console.Write(AlignmentTable(tokenizers, documents));
    }

    // Every ordered pair on a held-out slice of learned prose and fiction.
    private static Table AlignmentTable(Dictionary<string, HfTokenizer> tokenizers, List<BrownDocument> documents)
    {
        var lines = documents.Where(d => d.GenreCode is 'j' or 'k').SelectMany(d => d.Text.Split('\n')).Take(600).ToArray();
        var table = new Table().Title($"Teacher → student alignment (first_token projection, {lines.Length} Brown paragraphs)")
            .AddColumns("teacher → student", "exact tokens", "tail tokens", "coverage", "next-token mass on exact matches");
        var cache = ProjectionCache.Default();
        foreach (var teacher in Families)
            foreach (var student in Families.Where(f => f != teacher))
            {
                var (t, st) = (tokenizers[teacher], tokenizers[student]);
                var projection = cache.GetOrBuild(t, st, ProjectionMethod.FirstToken).Projection;
                var r = AlignmentReport.Compute(t, st, projection, lines, teacher, student);
                table.AddRow($"{teacher} → {student}", $"{r.ExactTokens:N0} / {r.TeacherVocab:N0}", r.TailTokens.ToString("N0"),
                    $"{100 * r.Coverage:F2}%", $"{100 * r.ExactMass:F2}%");
            }
        return table;
    }

    private static string Describe(HfTokenizer tok, int id) => id < 0 ? "-" : $"{Terminal.Cell(tok.TokenText(id) ?? "?")} ({id})";
}
