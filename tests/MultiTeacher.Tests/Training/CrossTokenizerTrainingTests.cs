using System.Text.Json;
using MultiTeacher.Alignment;
using MultiTeacher.Cache;
using MultiTeacher.Data;
using MultiTeacher.Models;
using MultiTeacher.Recipes;
using MultiTeacher.Teachers;
using MultiTeacher.Tests.Integration;
using MultiTeacher.Tests.Models;
using MultiTeacher.Tokenization;
using MultiTeacher.Training;
using static TorchSharp.torch;

namespace MultiTeacher.Tests.Training;

/// <summary>loss.kind alm and uld in the trainer: two teachers whose vocabularies differ from the student's and from each other's.</summary>
[Trait("Category", TestCategory.Unit)]
public sealed class CrossTokenizerTrainingTests : TempDirectoryTest
{
    private const int SequenceLength = 24;
    private static readonly (string Name, string Tokenizer, int Vocab)[] TeacherSpecs = [("llama", "llama3", 128256), ("qwen3", "qwen3", 151936)];

    private readonly TinyRuns _runs;
    private readonly string _studentDir;
    private readonly int _batchSize;

    public CrossTokenizerTrainingTests()
    {
        _runs = new TinyRuns(TempDir);
        _runs.WriteData(trainDocuments: 1, trainChars: 500);
        foreach (var (name, tokenizer, vocab) in TeacherSpecs)
            using (var model = TinyModels.Create(TinyModels.Config(name, vocab), seed: 3)) PretrainedModel.Save(model, TeacherDir(name), TestAssets.TokenizerDir(tokenizer));
        _studentDir = Path.Combine(TempDir, "student");
        using (var student = TinyModels.Create(TinyModels.Config("mistral", 32000), seed: 5)) PretrainedModel.Save(student, _studentDir, TestAssets.TokenizerDir("mistral-7b-v0.1"));
        // Every step sees every sample, so the loss falls from step to step instead of moving with the batch.
        _batchSize = new TrainingSamples([File.ReadAllText(Path.Combine(TempDir, "train.txt"))], HfTokenizer.FromDirectory(_studentDir), SequenceLength).Samples.Count;
    }

    private string TeacherDir(string name) => Path.Combine(TempDir, $"teacher-{name}");

    private string Recipe(string name, string loss, string mode, int steps, int? batch = null, string mixing = "{ policy: weighted }") => _runs.WriteRecipe(name, $"""
        seed: 4
        data: {"{"} train: train.txt, seq_len: {SequenceLength} {"}"}
        teachers:
          - {"{"} name: llama, path: {TeacherDir("llama")}, weight: 3 {"}"}
          - {"{"} name: qwen3, path: {TeacherDir("qwen3")}, weight: 1 {"}"}
        student: {"{"} init: {_studentDir} {"}"}
        loss: {loss}
        mixing: {mixing}
        train: {"{"} steps: {steps}, batch_size: {batch ?? _batchSize}, lr: 0.01, warmup_steps: 0, teachers: {mode} {"}"}
        """);

    private List<StepMetrics> Train(string recipe, string cacheRoot)
    {
        using var run = new DistillationRecipe(RecipeLoader.Load(recipe), TextWriter.Null, cacheRoot);
        run.Setup();
        var steps = new List<StepMetrics>();
        run.Train(steps.Add);
        return steps;
    }

    [Fact]
    public void Alm_WithTwoForeignTeachers_Trains_AndCachedRecordsGiveTheOnlineLoss()
    {
        const string loss = "{ kind: alm, alm_temperature: 5, alm_gamma: 0.1 }";
        var cacheRoot = Path.Combine(TempDir, "cache");
        var online = Train(Recipe("alm-online", loss, "online", steps: 5), cacheRoot);
        Assert.All(online, m => Assert.True(double.IsFinite(m.Loss) && m.Distillation is > 0, $"step {m.Step}: loss {m.Loss}, alm {m.Distillation}"));
        for (var i = 1; i < online.Count; i++) Assert.True(online[i].Loss < online[i - 1].Loss, $"step {online[i].Step}: {online[i].Loss} after {online[i - 1].Loss}");
        var first = online[0];
        Assert.Equal(0.75, first.TeacherWeight["llama"], 12);
        Assert.Equal(0.25, first.TeacherWeight["qwen3"], 12);
        // The distillation term is the weighted sum of the per-teacher terms it logs.
        Assert.Equal(0.75 * first.TeacherTerm!["llama"] + 0.25 * first.TeacherTerm["qwen3"], first.Distillation!.Value, 5);
        Assert.All(first.TeacherCoverage.Values, c => Assert.InRange(c, 0.5, 1.0));

        var cached = Train(Recipe("alm-cached", loss, "cached", steps: 1), cacheRoot);
        Assert.Equal(2, Directory.GetFiles(Path.Combine(cacheRoot, "teachers"), "*.mtalm").Length);
        Assert.Empty(Directory.GetFiles(Path.Combine(cacheRoot, "teachers"), "*.mtcache"));
        foreach (var name in new[] { "llama", "qwen3" })
            Assert.True(Math.Abs(cached[0].TeacherTerm![name] - first.TeacherTerm[name]) <= 1e-3 * first.TeacherTerm[name], $"{name}: cached {cached[0].TeacherTerm![name]} vs online {first.TeacherTerm[name]}");
        Assert.True(Math.Abs(cached[0].Loss - first.Loss) <= 1e-3 * first.Loss, $"cached {cached[0].Loss} vs online {first.Loss}");
    }

    [Fact]
    public void AlmTermOfTheFirstStep_IsAlmLossOverAPlanAssembledByHand()
    {
        var recipePath = Recipe("alm-one", "{ kind: alm, alm_temperature: 5, alm_gamma: 0.2, hard_label_weight: 0.3 }", "online", steps: 1);
        var trained = Train(recipePath, Path.Combine(TempDir, "cache"))[0];

        var recipe = RecipeLoader.Load(recipePath);
        var tokenizer = HfTokenizer.FromDirectory(_studentDir);
        var samples = TrainingSamples.ForRecipe(recipe.Data, tokenizer);
        var batch = samples.Batch(0, _batchSize, recipe.Seed).Select(i => samples.Samples[i]).ToList();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var student = PretrainedModel.Load(_studentDir);
        var ids = zeros(batch.Count, SequenceLength, dtype: ScalarType.Int64);
        for (var b = 0; b < batch.Count; b++)
        {
            var n = Math.Min(SequenceLength, batch[b].StudentIds.Length);
            ids[b, ..n] = tensor(batch[b].StudentIds[..n].Select(i => (long)i).ToArray());
        }
        var logits = student.forward(ids).view(-1, student.Config.VocabSize);
        var studentMask = tensor(BoundaryMask.For(tokenizer, student.Config.VocabSize));
        var expected = new Dictionary<string, double>();
        foreach (var (name, _, _) in TeacherSpecs)
        {
            using var teacher = PretrainedModel.Load(TeacherDir(name));
            var teacherTokenizer = HfTokenizer.FromDirectory(TeacherDir(name));
            var teacherMask = tensor(BoundaryMask.For(teacherTokenizer, teacher.Config.VocabSize));
            var plan = new AlmChunkPlan(new AlmSettings(Temperature: 5, Gamma: 0.2, Debias: true));
            for (var b = 0; b < batch.Count; b++)
            {
                var full = tokenizer.Encode(batch[b].Text);
                var n = Math.Min(SequenceLength, full.Count);   // the inputs the student saw
                var window = new TokenEncoding(full.Ids[..n], full.Offsets[..n], full.ByteOffsets[..n]);
                var teacherEncoding = teacherTokenizer.Encode(batch[b].Text);
                var records = AlmRecords.FromLogProbs(TeacherForward.LogProbs(teacher, [teacherEncoding.Ids])[0], teacherEncoding.Ids, teacherMask);
                plan.Add(ChunkAligner.Align(window, tokenizer, teacherEncoding, teacherTokenizer), window.Ids, records, (long)b * SequenceLength);
            }
            Assert.True(plan.Chunks > batch.Count, $"{name}: {plan.Chunks} chunks");
            expected[name] = AlmLoss.Compute(logits, plan, studentMask).item<float>();
            Assert.Equal(plan.Merged, trained.TeacherMerged![name], 12);
        }
        foreach (var (name, value) in expected)
            Assert.True(Math.Abs(trained.TeacherTerm![name] - value) <= 1e-4 * value, $"{name}: trainer {trained.TeacherTerm[name]}, by hand {value}");
        var ce = trained.HardLabelCe;
        Assert.Equal(0.3 * ce + 0.7 * (0.75 * expected["llama"] + 0.25 * expected["qwen3"]), trained.Loss, 4);
    }

    [Fact]
    public void Alm_AvgCe_WeighsEachSequenceByTheTeachersBitsPerByte_AndTheGateSwitchesThemOff()
    {
        const string loss = "{ kind: alm, alm_temperature: 5, alm_gamma: 0.1, hard_label_weight: 0.4 }";
        var cacheRoot = Path.Combine(TempDir, "cache");
        // One sequence per batch: each step's weights are that sequence's, exp(−bpb/τ) normalised, from the bits per byte it logs.
        var weighed = Train(Recipe("alm-avg-ce", loss, "online", steps: 2, batch: 1, mixing: "{ policy: avg_ce, temperature: 0.5 }"), cacheRoot);
        foreach (var m in weighed)
        {
            var (llama, qwen3) = (m.TeacherTextBitsPerByte!["llama"], m.TeacherTextBitsPerByte["qwen3"]);
            Assert.True(llama > 0 && qwen3 > 0 && llama != qwen3, $"step {m.Step}: {llama}, {qwen3} bits/byte");
            var w = Math.Exp(-llama / 0.5) / (Math.Exp(-llama / 0.5) + Math.Exp(-qwen3 / 0.5));
            Assert.Equal(w, m.TeacherWeight["llama"], 6);
            Assert.Equal(1 - w, m.TeacherWeight["qwen3"], 6);
            Assert.Equal(w * m.TeacherTerm!["llama"] + (1 - w) * m.TeacherTerm["qwen3"], m.Distillation!.Value, 5);
        }
        var metrics = _runs.Metrics("alm-avg-ce");
        Assert.Equal(weighed[0].TeacherTextBitsPerByte!["qwen3"], metrics[0].GetProperty("text_bpb/qwen3").GetDouble(), 12);

        // Random teachers predict far worse than 0.5 bits per byte: both are switched off, only the hard label trains.
        var gated = Train(Recipe("alm-gated", loss, "online", steps: 1, batch: 1, mixing: "{ policy: avg_ce, gate_bits_per_byte: 0.5 }"), cacheRoot);
        Assert.Equal(0, gated[0].Distillation!.Value);
        Assert.All(gated[0].TeacherWeight.Values, w => Assert.Equal(0, w));
        Assert.Equal(0.4 * gated[0].HardLabelCe, gated[0].Loss, 5);
    }

    [Fact]
    public void Uld_WithTwoForeignTeachers_TrainsOnItsPerTeacherTerms()
    {
        var steps = Train(Recipe("uld", "{ kind: uld }", "cached", steps: 4), Path.Combine(TempDir, "cache"));
        Assert.All(steps, m => Assert.True(double.IsFinite(m.Loss) && m.Distillation is > 0 && m.TeacherTerm!.Count == 2, $"step {m.Step}"));
        for (var i = 1; i < steps.Count; i++) Assert.True(steps[i].Loss < steps[i - 1].Loss, $"step {steps[i].Step}: {steps[i].Loss} after {steps[i - 1].Loss}");
        Assert.Equal(0.75 * steps[0].TeacherTerm!["llama"] + 0.25 * steps[0].TeacherTerm!["qwen3"], steps[0].Distillation!.Value, 5);
        var metrics = _runs.Metrics("uld");
        Assert.True(metrics[0].GetProperty("term/qwen3").GetDouble() > 0);
        Assert.All(steps[0].TeacherCoverage.Values, c => Assert.InRange(c, 0.3, 1.0));
    }
}
