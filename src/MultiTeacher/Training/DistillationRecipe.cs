using System.Diagnostics;
using System.Text.Json;
using MultiTeacher.Alignment;
using MultiTeacher.Cache;
using MultiTeacher.Data;
using MultiTeacher.Evaluation;
using MultiTeacher.Losses;
using MultiTeacher.Mixing;
using MultiTeacher.Models;
using MultiTeacher.Recipes;
using MultiTeacher.Teachers;
using MultiTeacher.Tokenization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using MultiTeacher.Runs;
using MultiTeacher.Runtime;

namespace MultiTeacher.Training;

/// <summary>What a finished run produced.</summary>
/// <remarks><see cref="TrainResult.Evaluation"/> is keyed by metric name (<see cref="MetricNames"/>): bpb/student, bpb/teacher/NAME.</remarks>
public sealed record TrainResult(string StudentDirectory, int Steps, double FirstLoss, double LastLoss,
    IReadOnlyDictionary<string, BitsPerByteResult> Evaluation, BlendAgreement? Agreement = null);

/// <summary>On held-out text at teacher-aligned positions: top-1 agreement of student and blend, and KL(blend ‖ student) in nats.</summary>
public sealed record BlendAgreement(double Top1, double Kl, long Positions);

/// <summary>
/// Single-device multi-teacher distillation, one recipe from start to end, in three calls after a
/// constructor that only stores settings: <see cref="Setup"/> (student, the teacher set with its
/// projections and caches, data), <see cref="Train"/>, <see cref="Cleanup"/>. Loss step (hard label + blended teachers at aligned positions),
/// train (AdamW, warmup + decay, clipping, accumulation, checkpoints, resume), evaluate, save.
/// With no teachers it is plain language-model training on the hard labels.
/// </summary>
public sealed class DistillationRecipe : IDisposable
{
    private readonly Recipe _recipe;
    private readonly TextWriter _log;
    private readonly string _cacheRoot;
    private readonly IStageObserver? _stages;
    private readonly IReadOnlyDictionary<string, string>? _verifiedHashes;
    private HfTokenizer _tokenizer = null!;
    private CausalLM _student = null!;
    private MixedPrecision? _mixed;
    private TeacherSet _teachers = null!;
    private CrossTokenizerTerms? _terms;
    private TrainingSamples _samples = null!;
    private IReadOnlyList<string> _evalDocuments = [];
    private Device _device = null!;
    private bool _setUp;

    public CausalLM Student => _student;

    /// <summary>The model the training passes run on: the student, or its bfloat16 copy under train.precision bfloat16.</summary>
    private CausalLM Computing => _mixed?.Compute ?? _student;

    /// <summary>The name of the train stage in lineage (one per run).</summary>
    public const string TrainStage = "student";

    /// <summary>Stores the settings; nothing is loaded until <see cref="Setup"/>.</summary>
    /// <param name="cacheRoot">Where projections and teacher caches live (default: the recipe's cache_root, else <see cref="CacheDirectories.Root"/>).</param>
    /// <param name="stages">Told when each stage (cache-teacher, train, eval, save) starts and ends, e.g. to record lineage.</param>
    /// <param name="verifiedHashes">Input hashes a check has just verified (a resolved recipe's), so teacher directories are not hashed again.</param>
    public DistillationRecipe(Recipe recipe, TextWriter log, string? cacheRoot = null, IStageObserver? stages = null, IReadOnlyDictionary<string, string>? verifiedHashes = null)
    {
        _recipe = recipe;
        _log = log;
        _cacheRoot = cacheRoot ?? recipe.CacheRoot ?? CacheDirectories.Root();
        _stages = stages;
        _verifiedHashes = verifiedHashes;
    }

    /// <summary>Loads the student, the teachers (and, in cached mode, their caches), the training and held-out data.</summary>
    public void Setup()
    {
        if (_setUp) throw new InvalidOperationException("the recipe is already set up");
        _setUp = true;
        var recipe = _recipe;
        _device = DeviceOf(recipe.Device);
        if (recipe.Threads > 0) set_num_threads(recipe.Threads);
        manual_seed(recipe.Seed);
        _tokenizer = HfTokenizer.FromDirectory(recipe.Student.TokenizerDirectory);
        _student = recipe.Student.Init is { } init ? PretrainedModel.Load(init) : FreshStudent(recipe);
        if (_student.Config.VocabSize < _tokenizer.VocabSize)
            throw new InvalidDataException($"student vocab_size {_student.Config.VocabSize} is smaller than its tokenizer's {_tokenizer.VocabSize}");
        _student.to(_device);
        _mixed = MixedPrecision.For(recipe.Train.Precision, _student);
        _teachers = TeacherSet.Load(recipe, _tokenizer, _device, new TeacherHashes(_verifiedHashes), _cacheRoot, _log);
        _samples = TrainingSamples.ForRecipe(recipe.Data, _tokenizer);
        if (recipe.Loss.PerTeacher && _teachers.Count > 0) _terms = new CrossTokenizerTerms(_tokenizer, _student.Config.VocabSize, recipe.Loss, recipe.Mixing, recipe.Alignment.TopK);
        if (recipe.Train.TeacherMode == TeacherMode.Cached)
        {
            var texts = _samples.Samples.Select(s => s.Text).ToList();
            var plan = TeacherCaches.ShardsOf(recipe, _samples);
            for (var k = 0; k < _teachers.Count; k++)
            {
                var name = _teachers.Teachers[k].Name;
                var teacher = k;
                foreach (var shard in plan.Shards)
                    Stage(StageKind.CacheTeacher, CacheStages.Name(name, shard.Index, plan.Count), () =>
                    {
                        var ensured = _teachers.EnsureCacheFor(teacher, texts, recipe.Loss.Kind, plan, shard);
                        _stages?.InputUsed("cache", ensured, ArtifactRoles.Cache(name));
                        return ensured;
                    });
            }
        }
        _evalDocuments = recipe.Data.Eval is { } eval ? TextCorpus.Load(eval, recipe.Data.Format, recipe.Data.Field) : [];
        _log.WriteLine($"student: {_student.Config.ModelType}, {_student.ParameterCount:N0} parameters on {_device.type}; {_samples.Samples.Count:N0} training samples");
    }

    /// <summary>auto, cpu, cuda or cuda:N (a worker's gpu-N queue picks N).</summary>
    public static Device DeviceOf(string name) => TorchDevices.Of(name);

    private T Stage<T>(StageKind kind, string name, Func<T> work)
    {
        _stages?.Started(kind, name);
        try
        {
            var result = work();
            _stages?.Finished(kind, name, StageStatus.Succeeded);
            return result;
        }
        catch (Exception e)
        {
            _stages?.Finished(kind, name, e is OperationCanceledException ? StageStatus.Cancelled : StageStatus.Failed);
            throw;
        }
    }

    private static CausalLM FreshStudent(Recipe recipe)
    {
        var model = new CausalLM(ModelConfig.FromFile(recipe.Student.Config!));
        model.InitializeWeights(new Generator((ulong)recipe.Seed));
        return model;
    }

    /// <summary>A micro-batch's loss value, the loss still to backpropagate (null when already done), and what it measured.</summary>
    private sealed record LossMeasured(double Loss, Tensor? Pending, double Ce, double? Kd, double[] Weights, double[] Coverage, double[]? Terms, long Tokens,
        IReadOnlyList<Tensor> OnDevice, double[]? TextBitsPerByte = null, double[]? Merged = null, double[]? Marginalized = null);

    /// <summary>A micro-batch as trained: the model that computed it (the student, or its bfloat16 copy), the optimizer of the student's weights and the batch's tensors on the device (ids or logits, targets, the teachers' blend).</summary>
    internal sealed record StepTensors(int Step, Device Device, CausalLM Student, AdamW Optimizer, IReadOnlyList<Tensor> Batch);

    /// <summary>Shown every micro-batch after its backward pass, before the optimizer steps: where the step's tensors live.</summary>
    internal Action<StepTensors>? Probe { get; set; }

    /// <summary>A batch through the student, with its gold targets and, where teachers align, their blend.</summary>
    private sealed record BatchForward(Tensor FlatLogits, Tensor Targets, TeacherBatch? Teachers, MixingResult? Mixed, Tensor? StudentRows);

    private BatchForward Forward(IReadOnlyList<TextSample> samples, IReadOnlyList<Teacher> teachers)
    {
        var (ids, targets) = Inputs(samples);
        var logits = Computing.forward(ids).to(float32);                                     // (B, T, V)
        var flatLogits = logits.view(-1, logits.shape[^1]);                                // (B*T, V)
        if (teachers.Count == 0 || _terms is not null) return new BatchForward(flatLogits, targets, null, null, null);
        var (teacherBatch, mixed) = Blend(samples, teachers, targets);
        if (mixed is null) return new BatchForward(flatLogits, targets, teacherBatch, null, null);
        var studentRows = flatLogits.index_select(0, tensor(teacherBatch.Positions, device: _device));      // (N, V)
        return new BatchForward(flatLogits, targets, teacherBatch, mixed, studentRows);
    }

    /// <summary>Student input ids (B, T) on the device and gold targets (B, T) on the host, −100 where none.</summary>
    private (Tensor Ids, Tensor Targets) Inputs(IReadOnlyList<TextSample> samples)
    {
        var t = _recipe.Data.SequenceLength;
        var ids = zeros(samples.Count, t + 1, dtype: ScalarType.Int64);                     // (B, T+1)
        var targets = full(samples.Count, t, -100L, dtype: ScalarType.Int64);              // (B, T), -100 = no target
        for (var b = 0; b < samples.Count; b++)
        {
            var s = samples[b].StudentIds.Select(i => (long)i).ToArray();
            ids[b, ..s.Length] = tensor(s);
            targets[b, ..(s.Length - 1)] = tensor(s[1..]);
        }
        return (ids[.., ..t].to(_device), targets);
    }

    /// <summary>The teachers' view of the batch and, where some teacher aligns, their blend.</summary>
    private (TeacherBatch Batch, MixingResult? Mixed) Blend(IReadOnlyList<TextSample> samples, IReadOnlyList<Teacher> teachers, Tensor targets)
    {
        var teacherBatch = TeacherEnsemble.Run(teachers, _tokenizer, Views(samples), _recipe.Data.SequenceLength, _teachers.TopK, _teachers.Tail, targets, _teachers.Boundary);
        if (teacherBatch.Positions.Length == 0) return (teacherBatch, null);
        var mixed = _teachers.Mixing!.Mix(teacherBatch.Input);
        return (teacherBatch, mixed with { Target = mixed.Target with { Lumped = _teachers.Tail == TailTreatment.Lump } });
    }

    private List<SampleView> Views(IReadOnlyList<TextSample> samples) =>
        samples.Select(s => new SampleView(s.Index, s.Text, _tokenizer.Encode(s.Text).Take(s.StudentIds.Length))).ToList();

    /// <summary>
    /// One micro-batch's loss and what it measured; per-teacher terms only for alm and uld. With
    /// train.logits_chunk the loss is backpropagated here, scaled by <paramref name="scale"/>
    /// (<see cref="LossMeasured.Pending"/> is null); otherwise the caller backpropagates Pending.
    /// </summary>
    private LossMeasured LossStep(int[] batch, double scale)
    {
        var samples = batch.Select(i => _samples.Samples[i]).ToList();
        if (_recipe.Train.LogitsChunk > 0 && _terms is null) return ChunkedLossStep(samples, scale);
        var f = Forward(samples, _teachers.Teachers);
        var gold = f.Targets.view(-1).to(_device);
        var ce = nn.functional.cross_entropy(f.FlatLogits, gold, ignore_index: -100);
        var tokens = f.Targets.ne(-100).sum().item<long>();
        if (_terms is not null)
        {
            var terms = _terms.Compute(f.FlatLogits, Views(samples), _recipe.Data.SequenceLength, _teachers.Teachers);
            var distillation = terms.Combined();
            var total = CrossTokenizerTerms.Total(ce, distillation, _recipe.Loss, Computing);
            return new LossMeasured(total.item<float>(), total, ce.item<float>(), distillation.item<float>(),
                terms.Weights, terms.Coverage, terms.Terms.Select(x => (double)x.item<float>()).ToArray(), tokens, [f.FlatLogits, gold], terms.BitsPerByte, terms.Merged);
        }
        var target = f.Mixed?.Target.To(_device);
        var kd = target is not null ? DistillationLoss.Divergence(f.StudentRows!, target, _recipe.Loss) : null;
        var weights = f.Mixed?.Weights.mean([1]).data<float>().Select(w => (double)w).ToArray() ?? new double[_teachers.Count];
        var coverage = f.Teachers?.Coverage ?? new double[_teachers.Count];
        var loss = DistillationLoss.Combine(ce, kd, _recipe.Loss.HardLabelWeight);
        return new LossMeasured(loss.item<float>(), loss, ce.item<float>(), kd?.item<float>(), weights, coverage, null, tokens,
            [f.FlatLogits, gold, .. Tensors(target)], Marginalized: f.Teachers?.Marginalized);
    }

    private LossMeasured ChunkedLossStep(List<TextSample> samples, double scale)
    {
        var (ids, targets) = Inputs(samples);
        var hidden = Computing.Hidden(ids);                                                 // (B, T, C)
        var (teacherBatch, mixed) = _teachers.Count == 0 ? (null, null) : Blend(samples, _teachers.Teachers, targets);
        var (gold, target) = (targets.view(-1).to(_device), mixed?.Target.To(_device));
        var result = ChunkedLoss.Backward(Computing, hidden, gold, teacherBatch?.Positions, target, _recipe.Loss, _recipe.Train.LogitsChunk, scale);
        var weights = mixed?.Weights.mean([1]).data<float>().Select(w => (double)w).ToArray() ?? new double[_teachers.Count];
        return new LossMeasured(result.Loss, null, result.Ce, result.Kd, weights, teacherBatch?.Coverage ?? new double[_teachers.Count], null,
            targets.ne(-100).sum().item<long>(), [ids, hidden, gold, .. Tensors(target)], Marginalized: teacherBatch?.Marginalized);
    }

    private static Tensor[] Tensors(SupportDistribution? d) =>
        d is null ? [] : [d.Support.Ids, d.Support.Valid, d.Support.Outside, d.Values, d.Rest];

    /// <summary>
    /// On held-out text, at positions some teacher aligns to: how often the student's most likely
    /// token is the blend's, and KL(blend ‖ student). Teachers run online (caches cover training text only).
    /// </summary>
    private BlendAgreement? AgreementWithBlend()
    {
        if (_teachers.Count == 0 || _evalDocuments.Count == 0) return null;
        var eval = new TrainingSamples(_evalDocuments, _tokenizer, _recipe.Data.SequenceLength, _recipe.Data.Packing);
        var online = _teachers.Online();
        long agree = 0, positions = 0, bytes = 0;
        double kl = 0;
        using var noGrad = no_grad();
        for (var start = 0; start < eval.Samples.Count && bytes < _recipe.Eval.MaxBytes; start += _recipe.Train.BatchSize)
        {
            using var scope = NewDisposeScope();
            var chunk = eval.Samples.Skip(start).Take(_recipe.Train.BatchSize).ToList();
            bytes += chunk.Sum(s => System.Text.Encoding.UTF8.GetByteCount(s.Text));
            if (Forward(chunk, online) is not { Mixed: { } mixed, StudentRows: { } rows }) continue;
            var target = mixed.Target.To(_device);
            var n = rows.shape[0];
            agree += rows.argmax(-1).eq(target.Dense().argmax(-1)).sum().item<long>();                      // (N)
            kl += DistillationLoss.Divergence(rows, target, new LossSettings { HardLabelWeight = 0 }).item<float>() * n;
            positions += n;
        }
        return positions == 0 ? null : new BlendAgreement((double)agree / positions, kl / positions, positions);
    }

    /// <summary>
    /// Trains to the recipe's step count. <paramref name="resume"/> continues from the newest checkpoint
    /// in the output directory, <paramref name="resumeFrom"/> from a given one. A cancelled run stops
    /// before its next step and saves a checkpoint of the last completed one.
    /// </summary>
    public TrainResult Train(Action<StepMetrics>? onStep = null, bool resume = false, CancellationToken cancel = default, string? resumeFrom = null)
    {
        if (!_setUp) throw new InvalidOperationException("Setup must run before Train");
        var from = resumeFrom is not null ? (resumeFrom, TrainingCheckpoint.StepOf(resumeFrom))
            : resume ? TrainingCheckpoint.Latest(_recipe.Output) : null;
        var (evaluation, first, last) = Stage(StageKind.Train, TrainStage, () => TrainSteps(onStep, from, cancel));
        return Finish(evaluation, first, last);
    }

    private (Dictionary<string, BitsPerByteResult>, double, double) TrainSteps(Action<StepMetrics>? onStep, (string Directory, int Step)? resumeFrom, CancellationToken cancel)
    {
        var r = _recipe.Train;
        // One run at a time writes an output directory (metrics, checkpoints, student); `mt run` takes the lock before submitting.
        using var outputLock = OutputLock.Take(_recipe.Output);
        using var optimizer = new StudentAdamW(_student.parameters(), r.LearningRate, r.WeightDecay);
        var schedule = new LearningRateSchedule(r.LearningRate, r.WarmupSteps, r.Steps, r.Schedule);
        var evaluation = new Dictionary<string, BitsPerByteResult>();
        var start = 0;
        string? lastCheckpoint = null;
        if (resumeFrom is { } latest)
        {
            TrainingCheckpoint.Load(latest.Directory, _student, optimizer);
            _mixed?.PushWeights();
            (start, lastCheckpoint) = (latest.Step, latest.Directory);
            _log.WriteLine($"resumed from {latest.Directory}");
        }
        else if (_evalDocuments.Count > 0) evaluation[MetricNames.InitialStudentBitsPerByte] = Evaluate(_student, _tokenizer);

        using var metricsFile = MetricsLog.Open(_recipe.Output, start);
        double first = double.NaN, last = double.NaN;
        var checkpointStep = start;
        _student.train();
        Computing.train();
        for (var step = start + 1; step <= r.Steps; step++)
        {
            if (cancel.IsCancellationRequested)
            {
                if (step - 1 > checkpointStep) Checkpointed(TrainingCheckpoint.Save(_recipe.Output, step - 1, _student, optimizer), step - 1);
                throw new TrainingCancelledException(step - 1);
            }
            var watch = Stopwatch.StartNew();
            var lr = schedule.At(step);
            foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
            optimizer.zero_grad();
            _mixed?.ZeroGradients();
            double loss = 0, ce = 0, kd = 0;
            var weights = new double[_teachers.Count];
            var coverage = new double[_teachers.Count];
            var terms = _terms is null ? null : new double[_teachers.Count];
            var textBpb = _terms is null || _recipe.Loss.Kind != LossKind.Alm ? null : new double[_teachers.Count];
            var merged = textBpb is null ? null : new double[_teachers.Count];
            var marginalized = _terms is null && _teachers.Boundary == BoundaryTreatment.Marginalized ? new double[_teachers.Count] : null;
            long tokens = 0;
            for (var micro = 0; micro < r.GradAccum; micro++)
            {
                using var scope = NewDisposeScope();
                var batch = _samples.Batch((long)(step - 1) * r.GradAccum + micro, r.BatchSize, _recipe.Seed);
                var m = LossStep(batch, 1.0 / r.GradAccum);
                var value = m.Loss;
                if (!double.IsFinite(value)) throw new TrainingDivergedException(step, batch, lastCheckpoint);
                if (m.Pending is { } pending) (pending / r.GradAccum).backward();
                Probe?.Invoke(new StepTensors(step, _device, Computing, optimizer, m.OnDevice));
                loss += value / r.GradAccum;
                ce += m.Ce / r.GradAccum;
                kd += (m.Kd ?? 0) / r.GradAccum;
                for (var k = 0; k < weights.Length; k++) { weights[k] += m.Weights[k] / r.GradAccum; coverage[k] += m.Coverage[k] / r.GradAccum; }
                for (var k = 0; terms is not null && k < terms.Length; k++) terms[k] += m.Terms![k] / r.GradAccum;
                for (var k = 0; textBpb is not null && k < textBpb.Length; k++) textBpb[k] += m.TextBitsPerByte![k] / r.GradAccum;
                for (var k = 0; merged is not null && k < merged.Length; k++) merged[k] += m.Merged![k] / r.GradAccum;
                for (var k = 0; marginalized is not null && m.Marginalized is not null && k < marginalized.Length; k++) marginalized[k] += m.Marginalized[k] / r.GradAccum;
                tokens += m.Tokens;
            }
            _mixed?.PullGradients();
            // Clip 0 means no clipping; the norm is still measured (an infinite bound changes nothing).
            var gradNorm = nn.utils.clip_grad_norm_(_student.parameters(), r.Clip > 0 ? r.Clip : double.PositiveInfinity);
            if (!double.IsFinite(gradNorm)) throw new TrainingDivergedException(step, _samples.Batch((long)(step - 1) * r.GradAccum, r.BatchSize, _recipe.Seed), lastCheckpoint);
            optimizer.step();
            _mixed?.PushWeights();
            if (step == start + 1) first = loss;
            last = loss;

            double? evalBpb = null;
            if (_recipe.Eval.Every > 0 && step % _recipe.Eval.Every == 0 && _evalDocuments.Count > 0)
                evalBpb = Evaluate(_student, _tokenizer).BitsPerByte;
            var metrics = new StepMetrics(step, loss, ce, _teachers.Count > 0 ? kd : null, lr, gradNorm, tokens / watch.Elapsed.TotalSeconds,
                _teachers.Teachers.Select((t, k) => (t.Name, weights[k])).ToDictionary(x => x.Name, x => x.Item2),
                _teachers.Teachers.Select((t, k) => (t.Name, coverage[k])).ToDictionary(x => x.Name, x => x.Item2), evalBpb,
                terms is null ? null : _teachers.Teachers.Select((t, k) => (t.Name, terms[k])).ToDictionary(x => x.Name, x => x.Item2),
                textBpb is null ? null : _teachers.Teachers.Select((t, k) => (t.Name, textBpb[k])).Where(x => double.IsFinite(x.Item2)).ToDictionary(x => x.Name, x => x.Item2),
                merged is null ? null : _teachers.Teachers.Select((t, k) => (t.Name, merged[k])).ToDictionary(x => x.Name, x => x.Item2),
                marginalized is null ? null : _teachers.Teachers.Select((t, k) => (t.Name, marginalized[k])).ToDictionary(x => x.Name, x => x.Item2));
            metricsFile.WriteLine(metrics.ToJsonLine());
            metricsFile.Flush();
            onStep?.Invoke(metrics);
            if (r.CheckpointEvery > 0 && step % r.CheckpointEvery == 0)
            {
                lastCheckpoint = Checkpointed(TrainingCheckpoint.Save(_recipe.Output, step, _student, optimizer), step);
                checkpointStep = step;
            }
        }
        _student.eval();
        // From here on (saving, evaluating, agreement with the blend) the float32 master is the student.
        _mixed?.Dispose();
        _mixed = null;
        return (evaluation, first, last);
    }

    private string Checkpointed(string directory, int step)
    {
        _stages?.CheckpointSaved(step, directory);
        return directory;
    }

    private TrainResult Finish(Dictionary<string, BitsPerByteResult> evaluation, double first, double last)
    {
        var studentDir = Path.Combine(_recipe.Output, "student");
        BlendAgreement? agreement = null;
        Stage(StageKind.Save, "student", () =>
        {
            PretrainedModel.Save(_student, studentDir, _recipe.Student.TokenizerDirectory);
            File.WriteAllText(Path.Combine(_recipe.Output, StudentEvaluation.ResolvedRecipeFile), ResolvedRecipe.Resolve(_recipe).ToYaml());
            return true;
        });
        if (_evalDocuments.Count > 0)
            Stage(StageKind.Eval, "bits-per-byte", () =>
            {
                evaluation[MetricNames.StudentBitsPerByte] = Evaluate(_student, _tokenizer);
                foreach (var t in _teachers.Teachers) evaluation[MetricNames.TeacherBitsPerByte(t.Name)] = Evaluate(t.Model, t.Tokenizer);
                agreement = AgreementWithBlend();
                File.WriteAllText(Path.Combine(_recipe.Output, "eval.json"), JsonSerializer.Serialize(evaluation, new JsonSerializerOptions { WriteIndented = true }));
                if (agreement is not null) File.WriteAllText(Path.Combine(_recipe.Output, "agreement.json"), JsonSerializer.Serialize(agreement, new JsonSerializerOptions { WriteIndented = true }));
                return true;
            });
        return new TrainResult(studentDir, _recipe.Train.Steps, first, last, evaluation, agreement);
    }

    private BitsPerByteResult Evaluate(CausalLM model, HfTokenizer tokenizer)
    {
        var training = model.training;
        model.eval();
        try { return BitsPerByte.Evaluate(model, tokenizer, _evalDocuments, _recipe.Data.SequenceLength, _recipe.Eval.MaxBytes); }
        finally { if (training) model.train(); }
    }

    /// <summary>Frees the student and the teachers.</summary>
    public void Cleanup()
    {
        _student?.Dispose();
        _mixed?.Dispose();
        _teachers?.Dispose();
        _terms?.Dispose();
    }

    public void Dispose() => Cleanup();
}
