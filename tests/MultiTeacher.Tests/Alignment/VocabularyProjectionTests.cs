using MultiTeacher.Alignment;
using MultiTeacher.Tokenization;

namespace MultiTeacher.Tests.Alignment;

[Trait("Category", TestCategory.Unit)]
public class VocabularyProjectionTests
{
    public static TheoryData<string, string> CrossPairs()
    {
        var data = new TheoryData<string, string>();
        foreach (var t in TestAssets.Families)
            foreach (var s in TestAssets.Families)
                if (t != s) data.Add(t, s);
        return data;
    }

    public static TheoryData<string, ProjectionMethod> FamiliesAndMethods()
    {
        var data = new TheoryData<string, ProjectionMethod>();
        foreach (var f in TestAssets.Families)
            foreach (var m in Enum.GetValues<ProjectionMethod>())
                data.Add(f, m);
        return data;
    }

    [Theory, MemberData(nameof(FamiliesAndMethods))]
    public void SameTokenizer_GivesTheIdentity_ForEveryMethod(string family, ProjectionMethod method)
    {
        var tok = TestAssets.Tokenizer(family);
        var p = VocabularyProjection.Build(tok, tok, method);
        for (var id = 0; id < tok.VocabSize; id++)
            if (tok.TokenText(id) is not null) Assert.Equal(id, p.Map[id]);
    }

    [Theory, MemberData(nameof(CrossPairs))]
    public void Exact_MapsOnlyToTheSameBytes_AndSpecialTokensByRole(string teacherFamily, string studentFamily)
    {
        var teacher = TestAssets.Tokenizer(teacherFamily);
        var student = TestAssets.Tokenizer(studentFamily);
        var p = ProjectionCache.Default().GetOrBuild(teacher, student, ProjectionMethod.Exact).Projection;
        for (var id = 0; id < teacher.VocabSize; id++)
        {
            var target = p.Map[id];
            if (target == VocabularyProjection.Tail || teacher.IsSpecial(id)) continue;
            Assert.True(teacher.TokenBytes(id).SequenceEqual(student.TokenBytes(target)), $"{teacher.TokenText(id)} → {student.TokenText(target)}");
        }
        if (teacher.Roles.Eos >= 0 && student.Roles.Eos >= 0) Assert.Equal(student.Roles.Eos, p.Map[teacher.Roles.Eos]);
        Assert.True(p.TailCount > 0, "different vocabularies always leave some teacher tokens without an exact match");
    }

    [Theory, MemberData(nameof(CrossPairs))]
    public void FirstToken_GivesEveryOrdinaryTeacherTokenATarget_ThatStartsWithItsBytes(string teacherFamily, string studentFamily)
    {
        var teacher = TestAssets.Tokenizer(teacherFamily);
        var student = TestAssets.Tokenizer(studentFamily);
        var p = ProjectionCache.Default().GetOrBuild(teacher, student, ProjectionMethod.FirstToken).Projection;
        for (var id = 0; id < teacher.VocabSize; id++)
        {
            if (teacher.TokenText(id) is null || teacher.IsSpecial(id)) continue;
            var target = p.Map[id];
            Assert.NotEqual(VocabularyProjection.Tail, target);
            // What the student writes first is a prefix of the teacher token's bytes, as the student
            // normalizes them (Qwen's NFC reorders combining marks, e.g. shadda + fatha).
            var bytes = teacher.TokenBytes(id).ToArray();
            var nfc = System.Text.Encoding.UTF8.GetBytes(System.Text.Encoding.UTF8.GetString(bytes).Normalize(System.Text.NormalizationForm.FormC));
            var written = student.TokenBytes(target);
            Assert.True(bytes.AsSpan().StartsWith(written) || nfc.AsSpan().StartsWith(written), $"{teacher.TokenText(id)} → {student.TokenText(target)}");
        }
    }

    [Fact]
    public void KnownCorrespondences_LlamaWordStartIsMistralWordStart()
    {
        var llama = TestAssets.Tokenizer("llama3");
        var mistral = TestAssets.Tokenizer("mistral-7b-v0.1");
        var p = VocabularyProjection.Build(llama, mistral, ProjectionMethod.FirstToken);
        var the = llama.EncodeToIds(" the", addSpecialTokens: false).Single();
        Assert.Equal("▁the", mistral.TokenText(p.Map[the]));
        Assert.True(p.IsExact[the]);
        Assert.Equal(mistral.Roles.Bos, p.Map[llama.Roles.Bos]);
    }

    [Fact]
    public void MinEdit_FindsATokenAtTheTrueMinimumDistance_ComparedWithBruteForce()
    {
        var teacher = TestAssets.Tokenizer("qwen3");
        var student = TestAssets.Tokenizer("mistral-7b-v0.1");
        var index = new MinEditIndex(student);
        var studentTokens = Enumerable.Range(0, student.VocabSize).Where(i => student.TokenText(i) is not null && !student.IsSpecial(i))
            .Select(i => student.TokenBytes(i).ToArray()).ToArray();
        var rng = new Random(7);
        for (var n = 0; n < 40; n++)
        {
            var id = rng.Next(0, 151_000);
            if (teacher.IsSpecial(id)) continue;
            var query = teacher.TokenBytes(id).ToArray();
            var found = index.Nearest(query);
            var bruteForce = studentTokens.Min(b => Levenshtein(query, b));
            Assert.Equal(bruteForce, Levenshtein(query, student.TokenBytes(found)));
        }
    }

    private static int Levenshtein(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var k = 0; k <= b.Length; k++) previous[k] = k;
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var k = 1; k <= b.Length; k++)
                current[k] = Math.Min(Math.Min(current[k - 1] + 1, previous[k] + 1), previous[k - 1] + (a[i - 1] == b[k - 1] ? 0 : 1));
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
