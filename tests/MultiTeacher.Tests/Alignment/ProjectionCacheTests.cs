using MultiTeacher.Alignment;
using MultiTeacher.Tokenization;

namespace MultiTeacher.Tests.Alignment;

[Trait("Category", TestCategory.Unit)]
public sealed class ProjectionCacheTests : TempDirectoryTest
{
    [Fact]
    public void SecondRequest_IsServedFromDisk_WithTheSameMap()
    {
        var cache = new ProjectionCache(Path.Combine(TempDir, "cache"));
        var teacher = TestAssets.Tokenizer("llama3");
        var student = TestAssets.Tokenizer("mistral-7b-v0.1");
        var first = cache.GetOrBuild(teacher, student, ProjectionMethod.FirstToken);
        var second = new ProjectionCache(cache.Directory).GetOrBuild(teacher, student, ProjectionMethod.FirstToken);
        Assert.True(first.Built);
        Assert.False(second.Built);
        Assert.Equal(first.Projection.Map, second.Projection.Map);
        Assert.Equal(first.Projection.IsExact, second.Projection.IsExact);
    }

    [Fact]
    public void ChangedTokenizerFile_GetsANewProjection()
    {
        var cache = new ProjectionCache(Path.Combine(TempDir, "cache"));
        var copy = Path.Combine(TempDir, "mistral");
        Directory.CreateDirectory(copy);
        foreach (var f in Directory.GetFiles(TestAssets.TokenizerDir("mistral-7b-v0.1"), "tokenizer*.json")) File.Copy(f, Path.Combine(copy, Path.GetFileName(f)));
        var teacher = TestAssets.Tokenizer("qwen3");
        var before = HfTokenizer.FromDirectory(copy);
        Assert.True(cache.GetOrBuild(teacher, before, ProjectionMethod.Exact).Built);
        Assert.False(cache.GetOrBuild(teacher, before, ProjectionMethod.Exact).Built);

        File.AppendAllText(Path.Combine(copy, "tokenizer_config.json"), "\n");
        var after = HfTokenizer.FromDirectory(copy);
        Assert.NotEqual(before.ContentHash, after.ContentHash);
        Assert.True(cache.GetOrBuild(teacher, after, ProjectionMethod.Exact).Built);
    }

    [Theory]
    [InlineData("truncate")]
    [InlineData("flip")]
    public void DamagedFile_IsDetected_AndRebuilt(string damage)
    {
        var cache = new ProjectionCache(Path.Combine(TempDir, "cache"));
        var teacher = TestAssets.Tokenizer("llama3");
        var student = TestAssets.Tokenizer("qwen3");
        var good = cache.GetOrBuild(teacher, student, ProjectionMethod.Exact).Projection;
        var path = cache.PathFor(teacher, student, ProjectionMethod.Exact);
        var bytes = File.ReadAllBytes(path);
        if (damage == "truncate") bytes = bytes[..(bytes.Length / 2)];
        else bytes[bytes.Length / 2] ^= 0x40;
        File.WriteAllBytes(path, bytes);

        Assert.False(ProjectionCache.TryRead(path, out _, out var problem));
        Assert.NotNull(problem);
        var (rebuilt, built) = cache.GetOrBuild(teacher, student, ProjectionMethod.Exact);
        Assert.True(built);
        Assert.Equal(good.Map, rebuilt.Map);
        Assert.True(ProjectionCache.TryRead(path, out _, out _));
    }
}
