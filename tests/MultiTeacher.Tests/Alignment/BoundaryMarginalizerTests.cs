using MultiTeacher.Alignment;
using MultiTeacher.Models;
using MultiTeacher.Teachers;
using MultiTeacher.Tests.Models;
using static TorchSharp.torch;

namespace MultiTeacher.Tests.Alignment;

[Trait("Category", TestCategory.Unit)]
public sealed class BoundaryMarginalizerTests
{
    [Fact]
    public void TokenExtensions_FollowTheStudentsOwnSplit()
    {
        var llama = TestAssets.Tokenizer("llama3");
        var mistral = TestAssets.Tokenizer("mistral-7b-v0.1");
        var extensions = new TokenExtensions(llama, mistral);
        int Llama(string s) => Assert.Single(llama.EncodeBytesMidText(System.Text.Encoding.UTF8.GetBytes(s)));
        int Mistral(string s) => Assert.Single(mistral.EncodeBytesMidText(System.Text.Encoding.UTF8.GetBytes(s)));

        // Llama 3 writes " gratis" as one token; Mistral writes it "▁grat" + "is".
        Assert.Equal("is", mistral.TokenText(extensions.Next(Mistral(" grat"), Llama(" grat"), Llama(" gratis"))));
        // Mistral has "▁interesting" whole, so after its "▁interest" the word cannot go on as "ing".
        Assert.Equal(-1, extensions.Next(Mistral(" interest"), Llama(" interest"), Llama(" interesting")));
        // " grand" does not begin with " grat".
        Assert.Equal(-1, extensions.Next(Mistral(" grat"), Llama(" grat"), Llama(" grand")));
        Assert.Equal(-1, extensions.Next(Mistral(" grat"), Llama(" grat"), Llama(" grat")));
        Assert.Equal(-1, extensions.Next(Mistral(" grat"), Llama(" grat"), llama.Roles.Eos));
    }

    [Fact]
    public void AForeignTeachersMarginalisedTarget_MatchesANaiveLoopOverItsWholeSoftmax()
    {
        var student = TestAssets.Tokenizer("mistral-7b-v0.1");
        var foreignTokenizer = TestAssets.Tokenizer("llama3");
        using var foreign = TinyModels.Create(TinyModels.Config("llama", vocab: 128256), seed: 7);
        using var studentModel = TinyModels.Create(TinyModels.Config("mistral", vocab: 32000), seed: 6);
        var projection = VocabularyProjection.Build(foreignTokenizer, student, ProjectionMethod.FirstToken);
        var teacher = Teachers.TargetQualityTests.AsTeacher(foreign, foreignTokenizer, projection);
        // Texts whose words Llama 3 writes whole and Mistral splits, so that extensions exist.
        string[] texts = ["Their opportunities were distributed gratis to institutions.", "They contributed, communicated and described it."];

        var marginalized = TargetQuality.Measure(teacher, 128256, studentModel, student, texts, 64, boundary: BoundaryTreatment.Marginalized);
        var assumed = TargetQuality.Measure(teacher, 128256, studentModel, student, texts, 64);

        // Naive: the dense projected row, then each extension's mass by scanning the whole previous
        // softmax in order of decreasing probability, the student's split decided by re-tokenising.
        double bits = 0;
        var extended = 0;
        foreach (var text in texts)
        {
            var moved = 0.0;
            var rows = 0;
            var (s, f) = (student.Encode(text), foreignTokenizer.Encode(text));
            var alignment = SequenceAligner.Align(s, student, f, foreignTokenizer);
            var pf = Softmax(foreign, f.Ids);
            for (var j = 0; j < alignment.Positions; j++)
            {
                var t = alignment.TeacherPosition[j];
                if (t < 0) continue;
                rows++;
                var q = new double[32000];
                for (var id = 0; id < 128256; id++)
                    if (projection.Map[id] >= 0) q[projection.Map[id]] += pf[t][id];
                var u = f.Ids[t];
                if (t >= 1 && !foreignTokenizer.IsSpecial(u))
                {
                    var uBytes = foreignTokenizer.TokenBytes(u).ToArray();
                    var found = new List<(int Student, double P)>();
                    foreach (var v in Enumerable.Range(0, 128256).OrderByDescending(v => pf[t - 1][v]))
                    {
                        if (found.Count == BoundaryMarginalizer.MaxExtensions) break;
                        if (v == u || foreignTokenizer.TokenText(v) is null || foreignTokenizer.IsSpecial(v)) continue;
                        var vBytes = foreignTokenizer.TokenBytes(v).ToArray();
                        if (vBytes.Length <= uBytes.Length || !vBytes.Take(uBytes.Length).SequenceEqual(uBytes)) continue;
                        var written = student.EncodeBytesMidText([.. student.TokenBytes(s.Ids[j]).ToArray(), .. vBytes.Skip(uBytes.Length)]);
                        if (written.Length >= 2 && written[0] == s.Ids[j]) found.Add((written[1], pf[t - 1][v]));
                    }
                    if (found.Count > 0)
                    {
                        extended++;
                        var z = pf[t - 1][u] + found.Sum(x => x.P);
                        for (var i = 0; i < q.Length; i++) q[i] *= pf[t - 1][u] / z;
                        foreach (var (id, p) in found) q[id] += p / z;
                        moved += found.Sum(x => x.P) / z;
                    }
                }
                bits -= Math.Log2(Math.Max(q[s.Ids[j + 1]], 1e-10));
            }
            // The batch reports the mean moved mass over the teacher's rows, as training logs it.
            using var gold = tensor(s.Ids[1..].Select(i => (long)i).ToArray()).reshape(1, s.Count - 1);
            var batch = TeacherEnsemble.Run([teacher], student, [new SampleView(0, text, s)], s.Count - 1, 128256, TailTreatment.Bucket, gold, BoundaryTreatment.Marginalized);
            Assert.Equal(moved / rows, batch.Marginalized![0], 4);
        }
        Assert.True(extended >= 3, $"only {extended} positions had an extension the student splits");
        Assert.Equal(bits, marginalized.TargetBits, 1);
        Assert.True(Math.Abs(marginalized.TargetBits - assumed.TargetBits) > 0.1, "the correction moved mass at some position");
    }

    private static double[][] Softmax(CausalLM model, int[] ids)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var probs = nn.functional.softmax(model.forward(tensor(ids.Select(i => (long)i).ToArray()).unsqueeze(0)).to(float64), -1)[0];
        return Enumerable.Range(0, ids.Length).Select(j => probs[j].data<double>().ToArray()).ToArray();
    }
}
