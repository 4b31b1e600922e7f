using System.Text;
using MultiTeacher.Alignment;
using MultiTeacher.Tokenization;

namespace MultiTeacher.Tests.Alignment;

[Trait("Category", TestCategory.Unit)]
public class ChunkAlignerTests
{
    public static readonly string[] HardTexts =
    [
        .. SequenceAlignerTests.HandMadeTexts,
        "a    b\n\n\n   c\t\t d  ", "   ", "\n", "😀", "x😀y 🇫🇷🇩🇪", "ᚠᛇᚻ ꙮ 𓀀 ﷽", "東京都は日本の首都です。",
        "Ümlaut ÄÖÜ über straße", "word\u00a0nbsp\u2003emspace", "1234567890123", "e\u0301 vs é",
    ];

    public static TheoryData<string, string> OrderedPairs() => SequenceAlignerTests.OrderedPairs();

    [Theory, MemberData(nameof(OrderedPairs))]
    public void Chunks_CoverEveryByteOnce_AndEndExactlyAtTheCommonBoundaries(string studentFamily, string teacherFamily)
    {
        var student = TestAssets.Tokenizer(studentFamily);
        var teacher = TestAssets.Tokenizer(teacherFamily);
        foreach (var text in HardTexts)
        {
            var s = student.Encode(text);
            var t = teacher.Encode(text);
            var a = ChunkAligner.Align(s, student, t, teacher);
            var bytes = Encoding.UTF8.GetByteCount(text);
            Assert.Equal(bytes, a.Bytes);
            Assert.Equal(bytes, a.Chunks.Sum(c => c.Bytes));

            // Chunk ends, computed the naive way: byte positions where both sides end a token.
            var common = NonEmptyEnds(s).Intersect(NonEmptyEnds(t)).Order().ToArray();
            Assert.Equal(common, a.Chunks.Select(c => c.ByteEnd).ToArray());

            var (cursor, sNext, tNext) = (0, -1, -1);
            foreach (var c in a.Chunks)
            {
                Assert.Equal(cursor, c.ByteStart);
                Assert.True(c.ByteEnd > c.ByteStart, $"{text}: empty chunk");
                AssertSpells(s, c.StudentStart, c.StudentEnd, c, text);
                AssertSpells(t, c.TeacherStart, c.TeacherEnd, c, text);
                if (sNext >= 0) Assert.Equal(sNext, c.StudentStart);
                if (tNext >= 0) Assert.Equal(tNext, c.TeacherStart);
                Assert.Equal(c.StudentStart == 0 || c.TeacherStart == 0 ? ChunkStatus.NoContext : ChunkStatus.Scored, c.Status);
                (cursor, sNext, tNext) = (c.ByteEnd, c.StudentEnd, c.TeacherEnd);
            }
            Assert.Equal(a.Chunks.Where(c => c.Status == ChunkStatus.Scored).Sum(c => c.Bytes) / (double)bytes, a.Coverage, 12);
        }
    }

    // The non-empty tokens of [start, end) spell exactly the chunk's bytes. Where a normaliser merged
    // characters (Qwen's NFC turns "e\u0301" into "é"), a side's spans leave the merged-away bytes to
    // no token; those bytes then open the next chunk, and only its end is checked.
    private static void AssertSpells(TokenEncoding e, int start, int end, ByteChunk c, string text)
    {
        var spans = Enumerable.Range(start, end - start).Select(i => e.ByteOffsets[i]).Where(o => o.End > o.Start).ToArray();
        Assert.NotEmpty(spans);
        Assert.Equal(c.ByteEnd, spans[^1].End);
        if (!Tiles(e)) return;
        Assert.Equal(c.ByteStart, spans[0].Start);
        for (var k = 1; k < spans.Length; k++) Assert.True(spans[k].Start == spans[k - 1].End, $"{text}: tokens of a chunk do not tile its bytes");
    }

    private static bool Tiles(TokenEncoding e)
    {
        var spans = e.ByteOffsets.Where(o => o.End > o.Start).ToArray();
        return spans.Length == 0 || spans[0].Start == 0 && spans.Zip(spans.Skip(1)).All(p => p.First.End == p.Second.Start);
    }

    private static IEnumerable<int> NonEmptyEnds(TokenEncoding e) =>
        e.ByteOffsets.Where(o => o.End > o.Start).Select(o => o.End).Distinct();

    [Theory, MemberData(nameof(TestAssets.FamilyData), MemberType = typeof(TestAssets))]
    public void SameTokenizer_GivesOneChunkPerToken(string family)
    {
        var tok = TestAssets.Tokenizer(family);
        foreach (var text in HardTexts)
        {
            var e = tok.Encode(text);
            var a = ChunkAligner.Align(e, tok, e, tok);
            var nonEmpty = Enumerable.Range(0, e.Count).Where(i => e.ByteOffsets[i].End > e.ByteOffsets[i].Start).ToArray();
            Assert.Equal(nonEmpty.Length, a.Chunks.Length);
            Assert.All(a.Chunks, c => Assert.Equal((c.StudentStart, c.StudentEnd), (c.TeacherStart, c.TeacherEnd)));
            Assert.Equal(nonEmpty, a.Chunks.Select(c => c.StudentEnd - 1).ToArray());
        }
    }

    [Fact]
    public void Digits_QwenStudentUnderLlama3Teacher_FormOneChunkPerLlamaGroup()
    {
        // Qwen writes 1|2|3|4|5, Llama 3 writes 123|45; neither adds BOS, so the first chunk has no context.
        var student = TestAssets.Tokenizer("qwen3");
        var teacher = TestAssets.Tokenizer("llama3");
        var a = ChunkAligner.Align(student.Encode("12345"), student, teacher.Encode("12345"), teacher);
        Assert.Equal(
            [new ByteChunk(0, 3, 0, 3, 0, 1, ChunkStatus.NoContext), new ByteChunk(3, 5, 3, 5, 1, 2, ChunkStatus.Scored)],
            a.Chunks);
        Assert.Equal(2 / 5.0, a.Coverage, 12);
    }

    [Fact]
    public void MistralStudent_BosIsContext_AndTheDummyPrefixJoinsTheFirstChunk()
    {
        // Mistral: <s> ▁Hello ▁world (the dummy-prefix ▁ of "▁Hello" covers no byte); Llama 3: Hello Ġworld.
        var student = TestAssets.Tokenizer("mistral-7b-v0.1");
        var teacher = TestAssets.Tokenizer("llama3");
        var s = student.Encode("Hello world");
        Assert.Equal(student.Roles.Bos, s.Ids[0]);
        var a = ChunkAligner.Align(s, student, teacher.Encode("Hello world"), teacher);
        Assert.Equal(
            [new ByteChunk(0, 5, 1, 2, 0, 1, ChunkStatus.NoContext), new ByteChunk(5, 11, 2, 3, 1, 2, ChunkStatus.Scored)],
            a.Chunks);
    }

    [Theory]
    [InlineData("qwen3", new[] { 3, 5 })]          // Qwen's byte-level BPE writes the character as 1 + 2 + 1 bytes
    [InlineData("mistral-7b-v0.1", new[] { 3, 4, 5 })]
    public void ByteFallback_SplitsACharacterOnlyWhereTheTeacherSplitsItToo(string teacherFamily, int[] innerEnds)
    {
        // Mistral spells this rare CJK Extension B character (bytes [2, 6)) as four <0xNN> byte tokens.
        var student = TestAssets.Tokenizer("mistral-7b-v0.1");
        var teacher = TestAssets.Tokenizer(teacherFamily);
        const string text = "a 𠀀 b";
        var s = student.Encode(text);
        var byteTokens = Enumerable.Range(0, s.Count).Where(i => student.TokenText(s.Ids[i]) is { Length: 6 } x && x.StartsWith("<0x")).ToArray();
        Assert.Equal(4, byteTokens.Length);
        var t = teacher.Encode(text);
        var teacherInnerEnds = t.ByteOffsets.Select(o => o.End).Where(e => e is > 2 and < 6).Distinct().Order().ToArray();
        Assert.Equal(innerEnds, teacherInnerEnds);
        var a = ChunkAligner.Align(s, student, t, teacher);
        Assert.Equal(innerEnds, a.Chunks.Select(c => c.ByteEnd).Where(e => e is > 2 and < 6).ToArray());
        Assert.Contains(a.Chunks, c => c.ByteEnd == 6);
    }

    [Fact]
    public void TruncatedTeacherWindow_DropsTheBytesAfterTheLastCommonBoundary_AndSaysSo()
    {
        var student = TestAssets.Tokenizer("mistral-7b-v0.1");
        var teacher = TestAssets.Tokenizer("llama3");
        const string text = "The quick brown fox jumps over the lazy dog";
        var s = student.Encode(text);
        var full = teacher.Encode(text);
        const int kept = 5;   // The | Ġquick | Ġbrown | Ġfox | Ġjumps
        var cut = new TokenEncoding(full.Ids[..kept], full.Offsets[..kept], full.ByteOffsets[..kept]);
        var a = ChunkAligner.Align(s, student, cut, teacher);
        var last = a.Chunks[^1];
        Assert.Equal(ChunkStatus.Truncated, last.Status);
        Assert.Equal(full.ByteOffsets[kept - 1].End, last.ByteStart);   // "The quick brown fox jumps" ends on a boundary of both
        Assert.Equal(Encoding.UTF8.GetByteCount(text), last.ByteEnd);
        Assert.Equal(kept, last.TeacherStart);
        Assert.Equal(kept, last.TeacherEnd);
        var scored = a.Chunks.Where(c => c.Status == ChunkStatus.Scored).Sum(c => c.Bytes);
        Assert.Equal(scored / (double)Encoding.UTF8.GetByteCount(text), a.Coverage, 12);
        Assert.True(a.Coverage < 25.0 / 43);
    }

    [Fact]
    public void EmptyTexts_GiveNoChunks()
    {
        var tok = TestAssets.Tokenizer("mistral-7b-v0.1");
        var e = tok.Encode("");
        var a = ChunkAligner.Align(e, tok, e, tok);
        Assert.Empty(a.Chunks);
        Assert.Equal(0, a.Coverage);
    }
}
