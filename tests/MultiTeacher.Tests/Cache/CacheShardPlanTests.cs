using MultiTeacher.Cache;
using MultiTeacher.Runs;

namespace MultiTeacher.Tests.Cache;

[Trait("Category", TestCategory.Unit)]
public sealed class CacheShardPlanTests
{
    private static (int First, int Count)[] Cut(int[] tokens, int shardTokens) =>
        CacheShardPlan.For(tokens, shardTokens).Shards.Select(s => (s.First, s.Count)).ToArray();

    [Fact]
    public void Shards_CloseAsSoonAsTheyHoldNTokens_AndTheLastTakesWhatIsLeft()
    {
        // 25 + 25 = 50 reaches 50: closed after two samples; 25 + 24 = 49 does not, so the third shard takes a third sample.
        Assert.Equal([(0, 2), (2, 3), (5, 1)], Cut([25, 25, 25, 24, 25, 25], 50));
        Assert.Equal([(0, 1), (1, 1), (2, 1)], Cut([25, 25, 25], 1));
        Assert.Equal([(0, 3)], Cut([25, 25, 25], 1_000));
    }

    [Fact]
    public void ZeroTokensPerShard_IsOneShardOverEverySample()
    {
        var plan = CacheShardPlan.For([7, 8, 9], 0);
        Assert.Equal(new CacheShard(0, 0, 3), Assert.Single(plan.Shards));
    }

    [Fact]
    public void EveryShardIsNumberedInOrder_AndTogetherTheyCoverEachSampleOnce()
    {
        var tokens = Enumerable.Range(0, 41).Select(i => 10 + i % 7).ToArray();
        var plan = CacheShardPlan.For(tokens, 33);
        Assert.Equal(Enumerable.Range(0, plan.Count), plan.Shards.Select(s => s.Index));
        Assert.Equal(Enumerable.Range(0, tokens.Length), plan.Shards.SelectMany(s => Enumerable.Range(s.First, s.Count)));
        Assert.Equal(["c", "d"], CacheShardPlan.Slice(["a", "b", "c", "d", "e"], new CacheShard(1, 2, 2)));
        Assert.Throws<InvalidDataException>(() => plan[plan.Count]);
    }

    [Fact]
    public void StageNames_AreTheTeacherForOneShard_AndNameTheShardOtherwise()
    {
        Assert.Equal("llama", CacheStages.Name("llama", 0, 1));
        Assert.Equal("llama.v2/3", CacheStages.Name("llama.v2", 3, 5));
        Assert.Equal("llama.v2", CacheStages.TeacherOf("llama.v2/3"));
        Assert.Equal("llama", CacheStages.TeacherOf("llama"));
    }
}
