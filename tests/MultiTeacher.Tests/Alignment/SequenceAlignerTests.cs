using MultiTeacher.Alignment;
using MultiTeacher.Tokenization;

namespace MultiTeacher.Tests.Alignment;

[Trait("Category", TestCategory.Unit)]
public class SequenceAlignerTests
{
    public static readonly string[] HandMadeTexts =
    [
        "Hello world", "  two leading spaces", " one leading space", "trailing space ", "12345 and 3.14159 and 1,000,000",
        "I ❤️ NY 😀😃 👨‍👩‍👧‍👦", "日本語のテキストです。中文分词测试", "𠀀𠀁 Extension B", "mixed 中文 and English",
        "def f(x):\n    return x**2\n", "Café naïve façade", "tab\tseparated\tvalues", "https://example.com/a?b=1",
    ];

    public static TheoryData<string, string> OrderedPairs()
    {
        var data = new TheoryData<string, string>();
        foreach (var s in TestAssets.Families)
            foreach (var t in TestAssets.Families)
                data.Add(s, t);
        return data;
    }

    [Theory, MemberData(nameof(OrderedPairs))]
    public void AlignedPositions_PredictTokensStartingAtTheSameByte_AndNoCandidateIsMissed(string studentFamily, string teacherFamily)
    {
        var student = TestAssets.Tokenizer(studentFamily);
        var teacher = TestAssets.Tokenizer(teacherFamily);
        foreach (var text in HandMadeTexts)
        {
            var s = student.Encode(text);
            var t = teacher.Encode(text);
            var a = SequenceAligner.Align(s, student, t, teacher);
            var teacherStarts = Enumerable.Range(1, t.Count - 1)
                .Where(i => t.ByteOffsets[i].End > t.ByteOffsets[i].Start)
                .ToDictionary(i => t.ByteOffsets[i].Start, i => i - 1);
            for (var j = 0; j + 1 < s.Count; j++)
            {
                var (start, end) = s.ByteOffsets[j + 1];
                if (a.TeacherPosition[j] >= 0)
                {
                    var i = a.TeacherPosition[j];
                    Assert.Equal(start, t.ByteOffsets[i + 1].Start);
                    Assert.True(t.ByteOffsets[i + 1].End > start, $"{text}: aligned to an empty teacher token");
                }
                else if (end > start)
                {
                    Assert.False(teacherStarts.ContainsKey(start), $"{text}: student position {j} (byte {start}) missed teacher position {teacherStarts.GetValueOrDefault(start)}");
                    Assert.NotEqual(UnalignedReason.None, a.Reasons[j]);
                }
            }
            Assert.Equal(UnalignedReason.EndOfSequence, a.Reasons[^1]);
        }
    }

    [Theory, MemberData(nameof(TestAssets.FamilyData), MemberType = typeof(TestAssets))]
    public void SameTokenizer_AlignsEveryPosition(string family)
    {
        var tok = TestAssets.Tokenizer(family);
        foreach (var text in HandMadeTexts)
        {
            var e = tok.Encode(text);
            var a = SequenceAligner.Align(e, tok, e, tok);
            for (var j = 0; j < a.Positions; j++)
                if (e.ByteOffsets[j + 1].End > e.ByteOffsets[j + 1].Start && (j > 0 || tok.Roles.Bos == e.Ids[0]))
                    Assert.Equal(j, a.TeacherPosition[j]);
        }
    }

    [Fact]
    public void Digits_QwenStudentUnderLlama3Teacher_AlignsOnlyAtLlamaGroupBoundaries()
    {
        // Qwen writes 1|2|3|4|5, Llama 3 writes 123|45: only "4" starts where a Llama token starts.
        var student = TestAssets.Tokenizer("qwen3");
        var teacher = TestAssets.Tokenizer("llama3");
        var a = SequenceAligner.Align(student.Encode("12345"), student, teacher.Encode("12345"), teacher);
        Assert.Equal([-1, -1, 0, -1, -1], a.TeacherPosition);
        Assert.Equal([UnalignedReason.InsideTeacherToken, UnalignedReason.InsideTeacherToken, UnalignedReason.None,
            UnalignedReason.InsideTeacherToken, UnalignedReason.EndOfSequence], a.Reasons);
    }

    [Fact]
    public void LeadingSpaceConventions_DoNotShiftOffsets_MistralStudentLlamaTeacher()
    {
        // Mistral: <s> ▁Hello ▁world ; Llama 3 (this file adds no BOS): Hello Ġworld.
        var student = TestAssets.Tokenizer("mistral-7b-v0.1");
        var teacher = TestAssets.Tokenizer("llama3");
        var a = SequenceAligner.Align(student.Encode("Hello world"), student, teacher.Encode("Hello world"), teacher);
        Assert.Equal([-1, 0, -1], a.TeacherPosition);
        Assert.Equal(UnalignedReason.NoTeacherContext, a.Reasons[0]);   // no Llama position has read nothing yet
        Assert.Equal(0.5, a.Coverage);
    }

    [Fact]
    public void BosOnBothSides_AlignsTheTextStart()
    {
        var tok = TestAssets.Tokenizer("mistral-7b-v0.1");
        var e = tok.Encode("Hello world");
        Assert.Equal(0, SequenceAligner.Align(e, tok, e, tok).TeacherPosition[0]);
    }
}
