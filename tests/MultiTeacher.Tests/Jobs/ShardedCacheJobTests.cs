using MultiTeacher.Cache;
using MultiTeacher.Data;
using MultiTeacher.Jobs;
using MultiTeacher.Lineage;
using MultiTeacher.Recipes;
using MultiTeacher.Runs;
using MultiTeacher.Teachers;
using MultiTeacher.Tests.Cli;
using MultiTeacher.Tests.Integration;
using MultiTeacher.Tests.Lineage;
using MultiTeacher.Tokenization;
using static MultiTeacher.Tests.Jobs.JobHarness;

namespace MultiTeacher.Tests.Jobs;

/// <summary>Teacher caches in shards, one Hangfire job each, against the real PostgreSQL.</summary>
[Trait("Category", TestCategory.Database)]
[Collection("postgres")]
public sealed class ShardedCacheJobTests(PostgresFixture postgres) : TempDirectoryTest
{
    private string Cache => Path.Combine(TempDir, "cache");

    [Fact]
    public void EveryShardIsAJob_AFailedShardIsRedoneAlone_TrainingWaitsForAll_AndALaterRunReusesEveryShard()
    {
        var db = postgres.NewDatabase();
        var runs = new TinyRuns(TempDir);
        runs.WriteData(trainDocuments: 1, trainChars: 2000);
        var teachers = TinyRuns.Teachers.Take(2).Select((t, i) => (t.Name, Path: runs.WriteTeacher(t.Name, t.ModelType, t.Tokenizer, t.Vocab, seed: 30 + i))).ToList();
        var config = runs.WriteConfig("student", "mistral", 32000);
        string Recipe(string name, int seed) => runs.WriteRecipe(name, $"""
            seed: {seed}
            device: cpu
            data: {"{"} train: train.txt, seq_len: 32 {"}"}
            teachers:
            {string.Join("\n", teachers.Select(t => $"  - {{ name: {t.Name}, path: {t.Path} }}"))}
            student: {"{"} config: {config}, tokenizer: {TestAssets.TokenizerDir("mistral-7b-v0.1")} {"}"}
            alignment: {"{"} top_k: 8 {"}"}
            train: {"{"} steps: 2, batch_size: 2, cache_shard_tokens: 100 {"}"}
            cache_root: {Cache}
            """);
        var first = Recipe("sharded-a", 1);

        // The file shard 1 of the first teacher will be written to is taken by a directory: that shard's job fails until it goes.
        var recipe = RecipeLoader.Load(first);
        var samples = TrainingSamples.ForRecipe(recipe.Data, HfTokenizer.FromDirectory(recipe.Student.TokenizerDirectory));
        var plan = TeacherCaches.ShardsOf(recipe, samples);
        Assert.True(plan.Count >= 3, $"{plan.Count} shards");
        var texts = samples.Samples.Select(s => s.Text).ToList();
        var key = TeacherCache.KeyFor(ContentHash.Of(teachers[0].Path), HfTokenizer.FromDirectory(teachers[0].Path).ContentHash, CacheShardPlan.Slice(texts, plan[1]), 8);
        var blocked = Path.Combine(Cache, "teachers", $"{key[..32]}.mtcache");
        Directory.CreateDirectory(blocked);

        var log = new StringWriter();
        using var worker = JobWorker.Start(db, ["shards"], 2, TextWriter.Synchronized(log), cacheRoot: Cache);
        var runA = Submit(db, first, "shards");
        var failing = CacheStages.Shard(teachers[0].Name, 1);
        WaitUntil(() => Scalar(db, "SELECT count(*) FROM lineage.stages WHERE run_id = $1 AND name = $2 AND error IS NOT NULL", runA, failing) == 1,
            what: "the blocked shard's first attempt to fail");
        Directory.Delete(blocked);
        var end = WaitForEnd(db, runA);
        Assert.True(end.Status == RunStatus.Succeeded, $"{end.Status}: {end.Error}\n{log}");

        var stages = new LineageStore(db).Stages(runA);
        var expected = teachers.SelectMany(t => plan.Shards.Select(s => $"{t.Name}/{s.Index}")).Order().ToList();
        var caches = stages.Where(s => s.Kind == StageKind.CacheTeacher).ToList();
        Assert.Equal(expected, caches.Select(s => s.Name).Order());
        Assert.All(caches, s => Assert.Equal(StageStatus.Succeeded, s.Status));
        Assert.All(caches, s => Assert.Equal(s.Name == failing ? 2 : 1, s.Attempts));
        Assert.Equal(1L, Scalar(db, """
            SELECT count(*) FROM lineage.stages t WHERE t.run_id = $1 AND t.kind = 'train' AND t.status = 'succeeded'
              AND t.started_at >= (SELECT max(finished_at) FROM lineage.stages c WHERE c.run_id = $1 AND c.kind = 'cache-teacher')
            """, runA));
        var files = Directory.GetFiles(Path.Combine(Cache, "teachers"), "*.mtcache").Order().ToList();
        Assert.Equal(expected.Count, files.Count);
        var written = files.Select(File.GetLastWriteTimeUtc).ToList();

        // Another student over the same data, teachers and settings: every shard is found, none is built.
        var runB = Submit(db, Recipe("sharded-b", 2), "shards");
        end = WaitForEnd(db, runB);
        Assert.True(end.Status == RunStatus.Succeeded, $"{end.Status}: {end.Error}\n{log}");
        var linesB = log.ToString().Split('\n').Where(l => l.StartsWith($"[run {runB} cache-teacher")).ToList();
        Assert.Equal(expected.Count, linesB.Count(l => l.Contains("cache reused")));
        // Each shard job read its texts from the file the submission wrote, and no worker tokenized the data.
        Assert.Equal(expected.Count, linesB.Count(l => l.Contains("texts from")));
        Assert.DoesNotContain(log.ToString().Split('\n'), l => l.Contains("tokenizing the training data"));
        Assert.DoesNotContain(linesB, l => l.Contains("cache built"));
        Assert.Equal(files, Directory.GetFiles(Path.Combine(Cache, "teachers"), "*.mtcache").Order());
        Assert.Equal(written, files.Select(File.GetLastWriteTimeUtc));
        // The student read all of them, each its teacher's cache in lineage.
        var used = new LineageStore(db).Artifacts(runB).Where(a => a.Direction == "used" && a.Kind == "cache").ToList();
        Assert.Equal(files, used.Select(a => a.Path).Order());
        Assert.All(used, a => Assert.StartsWith("cache:", a.Role));
    }

    [Fact]
    public void SubmitWithACacheRoot_WritesEveryShardsTextsThere_WhenTheRecipeNamesNone()
    {
        var db = postgres.NewDatabase();
        var runs = new TinyRuns(TempDir);
        runs.WriteData(trainDocuments: 1, trainChars: 2000);
        var teacher = TinyRuns.Teachers[0];
        var teacherPath = runs.WriteTeacher(teacher.Name, teacher.ModelType, teacher.Tokenizer, teacher.Vocab, seed: 30);
        var recipe = runs.WriteRecipe("sharded-root", $"""
            device: cpu
            data: {"{"} train: train.txt, seq_len: 32 {"}"}
            teachers:
              - {"{"} name: {teacher.Name}, path: {teacherPath} {"}"}
            student: {"{"} config: {runs.WriteConfig("student", "mistral", 32000)}, tokenizer: {TestAssets.TokenizerDir("mistral-7b-v0.1")} {"}"}
            train: {"{"} steps: 2, batch_size: 2, cache_shard_tokens: 100 {"}"}
            """);
        var loaded = RecipeLoader.Load(recipe);
        var samples = TrainingSamples.ForRecipe(loaded.Data, HfTokenizer.FromDirectory(loaded.Student.TokenizerDirectory));
        var shards = TeacherCaches.ShardsOf(loaded, samples).Count;
        Assert.True(shards >= 3, $"{shards} shards");

        var (code, _, error) = CliRunner.Run("", "submit", recipe, "--queue", "rooted", "--cache-root", Cache, "--database", db);

        Assert.True(code == 0, error);
        Assert.Equal(shards, Directory.GetFiles(Path.Combine(Cache, ShardTexts.Directory), "*.mttexts").Length);
        // The shards, read under the keys the jobs compute, hold the samples in order.
        var studentHash = HfTokenizer.FromDirectory(loaded.Student.TokenizerDirectory).ContentHash;
        var read = Enumerable.Range(0, shards).SelectMany(i =>
            ShardTexts.TryRead(Cache, ShardTexts.KeyFor(ContentHash.Of(loaded.Data.Train), studentHash, loaded.Data, 100, i), out var problem)?.Texts
            ?? throw new Xunit.Sdk.XunitException($"shard {i}: {problem}")).ToList();
        Assert.Equal(samples.Samples.Select(x => x.Text), read);
    }
}
