using MultiTeacher.Cache;
using MultiTeacher.Data;
using MultiTeacher.Mixing;
using MultiTeacher.Recipes;
using MultiTeacher.Teachers;
using MultiTeacher.Tests.Integration;
using MultiTeacher.Tokenization;
using static TorchSharp.torch;

namespace MultiTeacher.Tests.Teachers;

[Trait("Category", TestCategory.Unit)]
public sealed class TeacherSetTests : TempDirectoryTest
{
    private Recipe TinyRecipe(TinyRuns runs, string policy, string tail, params (string Name, string ModelType, string Tokenizer, int Vocab)[] teachers)
    {
        runs.WriteData(trainDocuments: 1, trainChars: 1200);
        var lines = teachers.Select((t, i) => $"  - {{ name: {t.Name}, path: {runs.WriteTeacher(t.Name, t.ModelType, t.Tokenizer, t.Vocab, 20 + i)}, weight: {i + 1} }}");
        return RecipeLoader.Load(runs.WriteRecipe("set", $"""
            seed: 3
            data: {"{"} train: train.txt, seq_len: 24 {"}"}
            teachers:
            {string.Join("\n", lines)}
            student: {"{"} config: {runs.WriteConfig("student", "mistral", 32000)}, tokenizer: {TestAssets.TokenizerDir("mistral-7b-v0.1")} {"}"}
            alignment: {"{"} top_k: 24, tail: {tail} {"}"}
            mixing: {"{"} policy: {policy} {"}"}
            """));
    }

    [Fact]
    public void Load_GivesTheRecipesTeachersAlignmentAndMixing_OrOnlyTheOnesAsked()
    {
        var runs = new TinyRuns(TempDir);
        var recipe = TinyRecipe(runs, "product", "renormalize", TinyRuns.Teachers[0], TinyRuns.Teachers[1]);
        var student = HfTokenizer.FromDirectory(recipe.Student.TokenizerDirectory);
        var cacheRoot = Path.Combine(TempDir, "cache");
        using (var set = TeacherSet.Load(recipe, student, CPU, new TeacherHashes(), cacheRoot, TextWriter.Null))
        {
            Assert.Equal(["llama", "mistral"], set.Teachers.Select(t => t.Name));
            Assert.Equal(128256, set.Teachers[0].Model.Config.VocabSize);
            Assert.Equal(student.VocabSize, set.Teachers[0].Projection.StudentVocabSize);
            Assert.IsType<ProductMixing>(set.Mixing);
            Assert.Equal((24, MultiTeacher.Alignment.TailTreatment.Renormalize), (set.TopK, set.Tail));
            Assert.All(set.Teachers, t => Assert.Null(t.Cache));
        }
        using (var one = TeacherSet.Load(recipe, student, CPU, new TeacherHashes(), cacheRoot, TextWriter.Null, t => t.Name == "mistral"))
            Assert.Equal(["mistral"], one.Teachers.Select(t => t.Name));
    }

    [Fact]
    public void Load_WithWarmTeachers_LendsALoadedTeacherToTheNextSet_AndOneInUseToNoOther_UntilUnloaded()
    {
        var runs = new TinyRuns(TempDir);
        var recipe = TinyRecipe(runs, "product", "renormalize", TinyRuns.Teachers[1]);
        var student = HfTokenizer.FromDirectory(recipe.Student.TokenizerDirectory);
        var cacheRoot = Path.Combine(TempDir, "cache");
        using var warm = new WarmTeachers(capacity: 1);
        TeacherSet Load(TeacherHashes hashes) => TeacherSet.Load(recipe, student, CPU, hashes, cacheRoot, TextWriter.Null, warm: warm);

        MultiTeacher.Models.CausalLM first;
        using (var set = Load(new TeacherHashes())) first = set.Teachers[0].Model;
        var weight = first.parameters().First();
        TorchSharp.torch.Tensor dropped;
        using (var again = Load(new TeacherHashes()))
        {
            Assert.Same(first, again.Teachers[0].Model);
            Assert.Equal("mistral", again.Teachers[0].Name);
            using var meanwhile = Load(new TeacherHashes());
            Assert.NotSame(first, meanwhile.Teachers[0].Model);
            dropped = meanwhile.Teachers[0].Model.parameters().First();
        }
        // Capacity 1: the second copy came back while the first was still lent, so it was disposed; the first stays.
        Assert.True(dropped.IsInvalid);
        Assert.False(weight.IsInvalid);
        // Another content hash is another teacher: the kept one is disposed before it loads, as two may not fit.
        var other = Load(new TeacherHashes(new Dictionary<string, string> { ["teachers.mistral"] = new string('0', 64) }));
        Assert.True(weight.IsInvalid);
        // Unloading (a training stage starts in the worker) disposes what is idle, never what a job still holds.
        Assert.Equal(1, warm.Loaded);
        warm.Unload();
        Assert.Equal(1, warm.Loaded);
        other.Dispose();
        Assert.Equal(1, warm.Loaded);
        warm.Unload();
        Assert.Equal(0, warm.Loaded);
    }

    [Fact]
    public void EnsureCache_KeysOnTheVerifiedHash_WithoutHashingTheTeacherDirectoryAgain()
    {
        var runs = new TinyRuns(TempDir);
        var recipe = TinyRecipe(runs, "weighted", "bucket", TinyRuns.Teachers[1]);
        var spec = recipe.Teachers[0];
        var student = HfTokenizer.FromDirectory(recipe.Student.TokenizerDirectory);
        var texts = TrainingSamples.ForRecipe(recipe.Data, student).Samples.Select(s => s.Text).ToList();
        var cacheRoot = Path.Combine(TempDir, "cache");
        // The input check verified this hash; the directory then gains a file the model does not
        // read. Hashing again would give another hash, so another cache key.
        var verified = ContentHash.Of(spec.Path);
        File.WriteAllText(Path.Combine(spec.Path, "notes.txt"), "changed after the input check");
        var current = ContentHash.Of(spec.Path);
        Assert.NotEqual(verified, current);

        using (var set = TeacherSet.Load(recipe, student, CPU, new TeacherHashes(new Dictionary<string, string> { ["teachers.mistral"] = verified }), cacheRoot, TextWriter.Null))
        {
            var ensured = set.EnsureCache(0, texts);
            Assert.False(ensured.Reused);
            Assert.Equal(TeacherCache.KeyFor(verified, set.Teachers[0].Tokenizer.ContentHash, texts, 24), ensured.Cache.Key);
            Assert.Same(ensured.Cache, set.Teachers[0].Cache);
            Assert.True(set.EnsureCache(0, texts).Reused);
        }
        // Without a verified hash the directory is hashed as it is now: another key, another cache.
        Assert.Equal(current, new TeacherHashes().Of(spec));
        using (var set = TeacherSet.Load(recipe, student, CPU, new TeacherHashes(), cacheRoot, TextWriter.Null))
        {
            var ensured = set.EnsureCache(0, texts);
            Assert.False(ensured.Reused);
            Assert.Equal(TeacherCache.KeyFor(current, set.Teachers[0].Tokenizer.ContentHash, texts, 24), ensured.Cache.Key);
        }
        Assert.Equal(2, Directory.GetFiles(Path.Combine(cacheRoot, "teachers"), "*.mtcache").Length);
    }

    [Fact]
    public void CachedTeachers_GiveTheOnlineTeachersTargets_WithinTheCodecsBudget()
    {
        var runs = new TinyRuns(TempDir);
        var recipe = TinyRecipe(runs, "confidence", "bucket", TinyRuns.Teachers[0], TinyRuns.Teachers[2]);
        var student = HfTokenizer.FromDirectory(recipe.Student.TokenizerDirectory);
        var samples = TrainingSamples.ForRecipe(recipe.Data, student).Samples.Take(3).ToList();
        using var set = TeacherSet.Load(recipe, student, CPU, new TeacherHashes(), Path.Combine(TempDir, "cache"), TextWriter.Null);
        var online = set.Online();
        for (var k = 0; k < set.Count; k++) set.EnsureCache(k, TrainingSamples.ForRecipe(recipe.Data, student).Samples.Select(s => s.Text).ToList());
        Assert.All(set.Teachers, t => Assert.NotNull(t.Cache));

        const int t = 24;
        using var scope = NewDisposeScope();
        var gold = full(samples.Count, t, -100L, dtype: ScalarType.Int64);                                 // (B, T)
        for (var b = 0; b < samples.Count; b++) gold[b, ..(samples[b].StudentIds.Length - 1)] = tensor(samples[b].StudentIds[1..].Select(i => (long)i).ToArray());
        var views = samples.Select(s => new SampleView(s.Index, s.Text, Truncated(student.Encode(s.Text), s.StudentIds.Length))).ToList();
        var fromModels = TeacherEnsemble.Run(online, student, views, t, set.TopK, set.Tail, gold);
        var fromCaches = TeacherEnsemble.Run(set.Teachers, student, views, t, set.TopK, set.Tail, gold);

        Assert.True(fromModels.Positions.Length > 20);
        Assert.Equal(fromModels.Positions, fromCaches.Positions);
        Assert.Equal(fromModels.Coverage, fromCaches.Coverage);
        Assert.Equal(fromModels.Input.Present.data<bool>().ToArray(), fromCaches.Input.Present.data<bool>().ToArray());
        var p = fromCaches.Input.Dense().to(float64);                                                      // (K, N, V)
        var q = fromModels.Input.Dense().to(float64);
        // KL(cached ‖ online) per present row, over the whole student vocabulary: the tail bucket
        // spreads the mass outside the top-k, as the codec's budget assumes.
        var kl = where(p > 0, p * (p.log() - q.log()), zeros_like(p)).sum(-1);                              // (K, N)
        var worst = kl.masked_select(fromModels.Input.Present).max().item<double>();
        Assert.True(worst <= 2 * TopKCodec.KlBudget, $"worst KL(cached ‖ online) {worst:E2}");
        Assert.True(worst > 0, "cached rows are quantised, so they differ a little");
    }

    [Fact]
    public void PositionsOf_GivesASameTokenizerTeacher_ExactlyThePositionsAForeignTeacherIsAlignedTo()
    {
        var runs = new TinyRuns(TempDir);
        runs.WriteData(trainDocuments: 1, trainChars: 1200);
        var (llama, mistral) = (TinyRuns.Teachers[0], TinyRuns.Teachers[1]);
        Recipe Load(string name, string restriction) => RecipeLoader.Load(runs.WriteRecipe(name, $$"""
            seed: 3
            data: { train: train.txt, seq_len: 24 }
            teachers:
              - { name: llama, path: {{runs.WriteTeacher("llama", llama.ModelType, llama.Tokenizer, llama.Vocab, 20)}} }
              - { name: mistral, path: {{runs.WriteTeacher("mistral", mistral.ModelType, mistral.Tokenizer, mistral.Vocab, 21)}}{{restriction}} }
            student: { config: {{runs.WriteConfig("student", "mistral", 32000)}}, tokenizer: {{TestAssets.TokenizerDir("mistral-7b-v0.1")}} }
            alignment: { top_k: 8 }
            """));
        var restricted = Load("restricted", $", positions_of: {TestAssets.TokenizerDir(llama.Tokenizer)}");
        // The teacher's model keeps its input key (teacher caches and lineage find it there); the tokenizer it borrows positions from is an input of its own.
        var inputs = ResolvedRecipe.Inputs(restricted);
        Assert.Equal(restricted.Teachers[1].Path, inputs[TeacherHashes.InputKey("mistral")]);
        Assert.Equal(TestAssets.TokenizerDir(llama.Tokenizer), Path.GetFullPath(inputs["teachers.mistral.positions_of"]).TrimEnd('/'));
        var student = HfTokenizer.FromDirectory(restricted.Student.TokenizerDirectory);
        var samples = TrainingSamples.ForRecipe(restricted.Data, student).Samples.Take(3).ToList();
        var views = samples.Select(s => new SampleView(s.Index, s.Text, Truncated(student.Encode(s.Text), s.StudentIds.Length))).ToList();
        const int t = 24;
        bool[] Present(Recipe recipe, int teacher)
        {
            using var scope = NewDisposeScope();
            using var set = TeacherSet.Load(recipe, student, CPU, new TeacherHashes(), Path.Combine(TempDir, "cache"), TextWriter.Null);
            var gold = zeros(samples.Count, t, dtype: ScalarType.Int64);
            var batch = TeacherEnsemble.Run(set.Teachers, student, views, t, set.TopK, set.Tail, gold);
            // Back to flat student positions b·T + j, so that runs with other position sets compare.
            var present = batch.Input.Present[teacher].data<bool>().ToArray();
            var flat = new bool[samples.Count * t];
            for (var p = 0; p < batch.Positions.Length; p++) flat[batch.Positions[p]] = present[p];
            return flat;
        }

        var foreign = Present(restricted, 0);
        var sameRestricted = Present(restricted, 1);
        var sameFree = Present(Load("free", ""), 1);
        Assert.Equal(foreign, sameRestricted);
        // The restriction removes positions: the student's own tokenizer is aligned everywhere but inside Llama 3's longer tokens.
        Assert.True(sameFree.Count(p => p) > sameRestricted.Count(p => p) + 5, $"{sameFree.Count(p => p)} unrestricted against {sameRestricted.Count(p => p)}");
        Assert.All(Enumerable.Range(0, sameFree.Length), i => Assert.True(sameFree[i] || !sameRestricted[i]));
    }

    [Fact]
    public void PositionsOf_WithAlm_IsRejected_NamingTheKey()
    {
        var runs = new TinyRuns(TempDir);
        runs.WriteData(trainDocuments: 1, trainChars: 600);
        var mistral = TinyRuns.Teachers[1];
        var path = runs.WriteRecipe("alm", $$"""
            data: { train: train.txt, seq_len: 24 }
            teachers:
              - { name: mistral, path: {{runs.WriteTeacher("mistral", mistral.ModelType, mistral.Tokenizer, mistral.Vocab, 21)}}, positions_of: {{TestAssets.TokenizerDir("llama3")}} }
            student: { config: {{runs.WriteConfig("student", "mistral", 32000)}}, tokenizer: {{TestAssets.TokenizerDir("mistral-7b-v0.1")}} }
            loss: { kind: alm }
            """);
        var error = Assert.Throws<RecipeException>(() => RecipeLoader.Load(path));
        Assert.Contains("positions_of", error.Message);
        Assert.Contains("alm", error.Message);
    }

    private static TokenEncoding Truncated(TokenEncoding e, int length) =>
        e.Count <= length ? e : new TokenEncoding(e.Ids[..length], e.Offsets[..length], e.ByteOffsets[..length]);
}
