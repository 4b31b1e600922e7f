using System.Diagnostics;
using System.Text;
using MultiTeacher.Alignment;
using MultiTeacher.Assets;
using MultiTeacher.Corpora;
using MultiTeacher.Reporting;
using MultiTeacher.Tokenization;

namespace MultiTeacher.Experiments;

/// <summary>
/// The demo's first look at its three teacher vocabularies on the Brown corpus: sizes and special
/// tokens, bytes per token per genre, one sentence in each vocabulary, and how well each aligns to the others.
/// </summary>
public sealed class TokenizerTour
{
    private static readonly IReadOnlyList<string> Families = AssetManifest.TokenizerFamilies();
    private readonly Dictionary<string, HfTokenizer> _tokenizers;
    private readonly List<BrownDocument> _documents;

    public TokenizerTour(AssetStore store)
    {
        _tokenizers = Families.ToDictionary(f => f, f => HfTokenizer.FromDirectory(store.Require($"tokenizers/{f}")));
        _documents = BrownCorpus.Read(store.Require("corpora/brown")).ToList();
    }

    public TextTable Vocabularies() => new("Teacher tokenizers", ["family", "kind", "vocab", "BOS", "EOS", "sha256"],
        _tokenizers.Select(t => (IReadOnlyList<string>)[t.Key, t.Value.Kind.ToString(), t.Value.VocabSize.ToString("N0"),
            Describe(t.Value, t.Value.Roles.Bos), Describe(t.Value, t.Value.Roles.Eos), t.Value.ContentHash[..12]]).ToList());

    /// <summary>Bytes per token of each family on each genre, and over all with single-thread encoding speed.</summary>
    public TextTable BytesPerToken()
    {
        var rows = new List<IReadOnlyList<string>>();
        var totals = Families.ToDictionary(f => f, _ => (Bytes: 0L, Tokens: 0L, Seconds: 0.0));
        foreach (var group in _documents.GroupBy(d => d.GenreCode))
        {
            var text = string.Join("\n", group.Select(d => d.Text));
            var bytes = Encoding.UTF8.GetByteCount(text);
            var row = new List<string> { BrownCorpus.Genres[group.Key], (bytes / 1e6).ToString("F2") };
            foreach (var family in Families)
            {
                var watch = Stopwatch.StartNew();
                var tokens = text.Split('\n').Sum(line => (long)_tokenizers[family].EncodeToIds(line, addSpecialTokens: false).Length);
                var t = totals[family];
                totals[family] = (t.Bytes + bytes, t.Tokens + tokens, t.Seconds + watch.Elapsed.TotalSeconds);
                row.Add(((double)bytes / tokens).ToString("F2"));
            }
            rows.Add(row);
        }
        rows.Add(["all (MB/s single thread)", (totals[Families[0]].Bytes / 1e6).ToString("F2"),
            .. Families.Select(f => $"{(double)totals[f].Bytes / totals[f].Tokens:F2} ({totals[f].Bytes / 1e6 / totals[f].Seconds:F1} MB/s)")]);
        return new TextTable("Bytes per token on the Brown corpus (higher = more compact)", ["genre", "MB", .. Families], rows);
    }

    /// <summary>One sentence of learned prose, then each family's tokens of it.</summary>
    public IEnumerable<string> Sample()
    {
        var sample = _documents.First(d => d.GenreCode == 'j').Text.Split('\n').First(l => l.Length > 80);
        sample = sample.Length > 160 ? sample[..sample.LastIndexOf(' ', 160)] : sample;
        yield return $"\nOne sentence, three vocabularies (token bytes between |):\n  {sample}";
        foreach (var (family, tok) in _tokenizers)
        {
            var ids = tok.EncodeToIds(sample, addSpecialTokens: false);
            var pieces = ids.Select(id => Encoding.UTF8.GetString(tok.TokenBytes(id)));
            yield return $"  {family,-16} {ids.Length,3} tokens |{string.Join("|", pieces)}|";
        }
    }

    /// <summary>Every ordered pair of families on a slice of learned prose and fiction.</summary>
    public TextTable Alignment()
    {
        var lines = _documents.Where(d => d.GenreCode is 'j' or 'k').SelectMany(d => d.Text.Split('\n')).Take(600).ToArray();
        var rows = new List<IReadOnlyList<string>>();
        var cache = ProjectionCache.Default();
        foreach (var teacher in Families)
            foreach (var student in Families.Where(f => f != teacher))
            {
                var (t, st) = (_tokenizers[teacher], _tokenizers[student]);
                var projection = cache.GetOrBuild(t, st, ProjectionMethod.FirstToken).Projection;
                var r = AlignmentReport.Compute(t, st, projection, lines, teacher, student);
                rows.Add([$"{teacher} → {student}", $"{r.ExactTokens:N0} / {r.TeacherVocab:N0}", r.TailTokens.ToString("N0"),
                    $"{100 * r.Coverage:F2}%", $"{100 * r.ExactMass:F2}%"]);
            }
        return new TextTable($"Teacher → student alignment (first_token projection, {lines.Length} Brown paragraphs)",
            ["teacher → student", "exact tokens", "tail tokens", "coverage", "next-token mass on exact matches"], rows);
    }

    private static string Describe(HfTokenizer tok, int id) => id < 0 ? "-" : $"{tok.TokenText(id) ?? "?"} ({id})";
}
