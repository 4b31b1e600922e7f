using System.CommandLine;
using System.Diagnostics;
using System.Text;
using MultiTeacher.Alignment;
using MultiTeacher.Assets;
using MultiTeacher.Corpora;
using MultiTeacher.Tokenization;
using Spectre.Console;

namespace MultiTeacher.Cli.Commands;

/// <summary>`mt demo`: the end-to-end showcase on the pinned assets (currently the tokenizer stage).</summary>
public static class DemoCommand
{
    private static readonly IReadOnlyList<string> Families = AssetManifest.TokenizerFamilies();

    public static Command Create(CliIO io)
    {
        var assets = new Option<string>("--assets") { Description = "Asset directory (default: $MT_ASSETS or ~/.cache/multiteacher/assets)" };
        var command = new Command("demo", "Run the showcase on the pinned assets: three teacher tokenizers on Brown corpus genres, and how their vocabularies align.") { assets };
        command.SetAction(r => Run(new AssetStore(r.GetValue(assets) ?? AssetStore.DefaultRoot()), io));
        return command;
    }

    private static int Run(AssetStore store, CliIO io)
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
        io.Out.WriteLine("\nNext: `mt tokenize --tokenizer DIR --json` for ids, offsets and exact token bytes;");
        io.Out.WriteLine("      `mt align --teacher DIR --student DIR --text FILE` for one pair in detail.");
        return CliApp.Ok;
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

    private static string Describe(HfTokenizer tok, int id) => id < 0 ? "-" : $"{Markup.Escape(tok.TokenText(id) ?? "?")} ({id})";
}
