using MultiTeacher.Cache;
using MultiTeacher.Data;
using MultiTeacher.Losses;
using MultiTeacher.Recipes;
using MultiTeacher.Teachers;
using MultiTeacher.Tests.Integration;
using MultiTeacher.Tokenization;
using static TorchSharp.torch;

namespace MultiTeacher.Tests.Teachers;

[Trait("Category", TestCategory.Unit)]
public sealed class ShardedCacheTests : TempDirectoryTest
{
    private (Recipe Recipe, HfTokenizer Student, List<string> Texts) Setup(string loss)
    {
        var runs = new TinyRuns(TempDir);
        runs.WriteData(trainDocuments: 1, trainChars: 2400);
        var t = TinyRuns.Teachers[1];
        var recipe = RecipeLoader.Load(runs.WriteRecipe("sharded", $"""
            seed: 3
            data: {"{"} train: train.txt, seq_len: 24 {"}"}
            teachers:
              - {"{"} name: {t.Name}, path: {runs.WriteTeacher(t.Name, t.ModelType, t.Tokenizer, t.Vocab, 21)} {"}"}
            student: {"{"} config: {runs.WriteConfig("student", "mistral", 32000)}, tokenizer: {TestAssets.TokenizerDir("mistral-7b-v0.1")} {"}"}
            alignment: {"{"} top_k: 16 {"}"}
            loss: {"{"} kind: {loss} {"}"}
            """));
        var student = HfTokenizer.FromDirectory(recipe.Student.TokenizerDirectory);
        return (recipe, student, TrainingSamples.ForRecipe(recipe.Data, student).Samples.Select(s => s.Text).ToList());
    }

    [Fact]
    public void AShardJobReadsItsTextsFromTheSubmittedFile_AndTokenizesTheDataWhenTheFileIsDamaged()
    {
        var (setup, student, texts) = Setup("forward_kl");
        var recipe = setup with { Train = setup.Train with { CacheShardTokens = 60 } };
        var plan = TeacherCaches.ShardsOf(recipe, TrainingSamples.ForRecipe(recipe.Data, student));
        Assert.True(plan.Count >= 3, $"{plan.Count} shards");
        // Tokenizing the data (no data hash to key the texts by): the cache file shard 1 has, named by its texts.
        var tokenized = TeacherCaches.EnsureForRecipe(recipe, CPU, new TeacherHashes(), Path.Combine(TempDir, "tokenized"), TextWriter.Null, shard: 1).Single();

        var root = Path.Combine(TempDir, "root");
        ShardTexts.WriteAll(root, "data-hash", student.ContentHash, recipe.Data, 60, plan, texts);
        var log = new StringWriter();
        var fromFile = TeacherCaches.EnsureForRecipe(recipe, CPU, new TeacherHashes(), root, log, shard: 1, dataHash: "data-hash").Single();
        Assert.Contains($"samples: shard 1's {plan[1].Count} texts from", log.ToString());
        Assert.DoesNotContain("tokenizing", log.ToString());
        Assert.Equal(Path.GetFileName(tokenized), Path.GetFileName(fromFile));

        var key = ShardTexts.KeyFor("data-hash", student.ContentHash, recipe.Data, 60, 2);
        var bytes = File.ReadAllBytes(ShardTexts.PathFor(root, key));
        bytes[^40] ^= 1;
        File.WriteAllBytes(ShardTexts.PathFor(root, key), bytes);
        log = new StringWriter();
        var rebuilt = TeacherCaches.EnsureForRecipe(recipe, CPU, new TeacherHashes(), root, log, shard: 2, dataHash: "data-hash").Single();
        Assert.Contains("samples: shard 2's texts not usable (checksum mismatch", log.ToString());
        Assert.Contains("tokenizing the training data", log.ToString());
        var expected = TeacherCaches.EnsureForRecipe(recipe, CPU, new TeacherHashes(), Path.Combine(TempDir, "tokenized"), TextWriter.Null, shard: 2).Single();
        Assert.Equal(Path.GetFileName(expected), Path.GetFileName(rebuilt));
    }

    [Fact]
    public void ShardedTopKCache_GivesTheSameTrainingRecordsAsOneCache_FromOneFilePerShard()
    {
        var (recipe, student, texts) = Setup("forward_kl");
        // One sample per shard: every batch the cache builder runs differs from the unsharded build's.
        var plan = CacheShardPlan.For(texts.Select(_ => 1).ToList(), 1);
        Assert.True(plan.Count > 8, $"{plan.Count} shards");
        using var whole = TeacherSet.Load(recipe, student, CPU, new TeacherHashes(), Path.Combine(TempDir, "whole"), TextWriter.Null);
        using var sharded = TeacherSet.Load(recipe, student, CPU, new TeacherHashes(), Path.Combine(TempDir, "sharded"), TextWriter.Null);
        whole.EnsureCacheFor(0, texts, LossKind.ForwardKl);
        var files = plan.Shards.Select(s =>
        {
            Assert.Null(sharded.Teachers[0].Cache);   // read as one only once every shard exists
            return sharded.EnsureCacheFor(0, texts, LossKind.ForwardKl, plan, s);
        }).ToList();
        Assert.Equal(plan.Count, files.Distinct().Count());

        var (one, joined) = (whole.Teachers[0].Cache!, sharded.Teachers[0].Cache!);
        Assert.Equal((one.Count, one.Positions, one.TopK), (joined.Count, joined.Positions, joined.TopK));
        for (var i = 0; i < texts.Count; i++)
        {
            var (a, b) = (one.Read(i), joined.Read(i));
            Assert.Equal(a.Count, b.Count);
            for (var p = 0; p < a.Count; p++)
            {
                Assert.Equal(a[p].Ids.ToArray(), b[p].Ids.ToArray());
                Assert.Equal(a[p].LogProbs.ToArray(), b[p].LogProbs.ToArray());
                Assert.Equal(a[p].Tail, b[p].Tail);
            }
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => joined.Read(texts.Count));
    }

    [Fact]
    public void ShardedAlmCache_GivesTheSameRecordsAsOneCache()
    {
        var (recipe, student, texts) = Setup("alm");
        var plan = CacheShardPlan.For(texts.Select(_ => 1).ToList(), 3);
        Assert.True(plan.Count > 2, $"{plan.Count} shards");
        using var whole = TeacherSet.Load(recipe, student, CPU, new TeacherHashes(), Path.Combine(TempDir, "whole"), TextWriter.Null);
        using var sharded = TeacherSet.Load(recipe, student, CPU, new TeacherHashes(), Path.Combine(TempDir, "sharded"), TextWriter.Null);
        whole.EnsureCacheFor(0, texts, LossKind.Alm);
        foreach (var s in plan.Shards) sharded.EnsureCacheFor(0, texts, LossKind.Alm, plan, s);
        var (one, joined) = (whole.Teachers[0].Alm!, sharded.Teachers[0].Alm!);
        Assert.Equal((one.Count, one.Positions), (joined.Count, joined.Positions));
        for (var i = 0; i < texts.Count; i++) Assert.Equal(one.Read(i), joined.Read(i));
    }

    [Fact]
    public void EachShard_IsReusedByALaterSetOverTheSameSamples_AndOnlyAMissingOrAlteredOneIsBuilt()
    {
        var (recipe, student, texts) = Setup("forward_kl");
        var plan = CacheShardPlan.For(texts.Select(_ => 1).ToList(), 4);
        Assert.True(plan.Count > 3, $"{plan.Count} shards");
        var root = Path.Combine(TempDir, "cache");
        List<string> files;
        using (var first = TeacherSet.Load(recipe, student, CPU, new TeacherHashes(), root, TextWriter.Null))
            files = plan.Shards.Select(s => first.EnsureCacheFor(0, texts, LossKind.ForwardKl, plan, s)).ToList();
        var written = files.Select(File.GetLastWriteTimeUtc).ToList();
        File.Delete(files[1]);
        // One byte of another shard changes, as on a shared filesystem that lost a write: its sha256 no longer matches.
        var bytes = File.ReadAllBytes(files[2]);
        bytes[bytes.Length / 2] ^= 0x10;
        File.WriteAllBytes(files[2], bytes);

        var log = new StringWriter();
        using (var second = TeacherSet.Load(recipe, student, CPU, new TeacherHashes(), root, log))
            Assert.Equal(files, plan.Shards.Select(s => second.EnsureCacheFor(0, texts, LossKind.ForwardKl, plan, s)));
        var lines = log.ToString().Split('\n');
        Assert.Equal(plan.Count - 2, lines.Count(l => l.Contains("cache reused")));
        Assert.Single(lines, l => l.Contains("cache built") && l.Contains(files[1]));
        Assert.Single(lines, l => l.Contains("checksum mismatch") && l.Contains(files[2]));
        Assert.Single(lines, l => l.Contains("cache built") && l.Contains(files[2]));
        Assert.All(Enumerable.Range(0, files.Count).Where(i => i is not (1 or 2)), i => Assert.Equal(written[i], File.GetLastWriteTimeUtc(files[i])));
    }
}
