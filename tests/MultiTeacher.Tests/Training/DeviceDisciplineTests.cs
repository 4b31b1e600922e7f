using System.Text.RegularExpressions;
using MultiTeacher.Recipes;
using MultiTeacher.Runtime;
using MultiTeacher.Tests.Cli;
using MultiTeacher.Tests.Integration;
using MultiTeacher.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MultiTeacher.Tests.Training;

/// <summary>
/// Every tensor of a training step lives on the device the recipe names, and the hot path holds no
/// copy to the host other than reading results back: parameters, gradients, optimizer state, the
/// batch and the teachers' blend, with the logits whole or in chunks.
/// </summary>
[Trait("Category", TestCategory.Unit)]
public sealed class DeviceDisciplineTests : TempDirectoryTest
{
    private static IEnumerable<(string What, Tensor Tensor)> Everything(DistillationRecipe.StepTensors s)
    {
        foreach (var (name, p) in s.Student.named_parameters())
        {
            yield return (name, p);
            if (p.grad is { } g) yield return ($"{name}.grad", g);
        }
        var state = s.Optimizer.state_dict();
        for (var i = 0; i < state.State.Count; i++)
        {
            var adam = (AdamW.State)state.State[i];
            yield return ($"exp_avg[{i}]", adam.exp_avg);
            yield return ($"exp_avg_sq[{i}]", adam.exp_avg_sq);
        }
        for (var i = 0; i < s.Batch.Count; i++) yield return ($"batch[{i}]", s.Batch[i]);
    }

    /// <summary>Same device type, and the same index where the name gives one (cuda means the current one).</summary>
    private static bool On(Device actual, Device expected) =>
        actual.type == expected.type && (expected.index < 0 || actual.index == expected.index);

    /// <param name="tolerance">Relative agreement of chunked and whole: float32 rounding, or bfloat16's products averaged over many positions.</param>
    [Theory]
    [InlineData("float32", 1e-5)]
    [InlineData("bfloat16", 1e-3)]
    public void TrainingStep_KeepsEveryTensorOnTheRecipesDevice_AndChunkedLogitsTrainAsTheWholeBatchs(string precision, double tolerance)
    {
        var runs = new TinyRuns(TempDir);
        runs.WriteData(trainDocuments: 1, trainChars: 1500);
        var teachers = TinyRuns.Teachers.Where(t => t.Name != "mistral")
            .Select((t, i) => $"  - {{ name: {t.Name}, path: {runs.WriteTeacher(t.Name, t.ModelType, t.Tokenizer, t.Vocab, seed: i + 3)} }}").ToList();
        var config = runs.WriteConfig("student", "mistral", 32000);
        string Recipe(string name, int chunk) => runs.WriteRecipe(name, $"""
            seed: 4
            device: cpu
            data: {"{"} train: train.txt, seq_len: 24 {"}"}
            teachers:
            {string.Join("\n", teachers)}
            student: {"{"} config: {config}, tokenizer: {TestAssets.TokenizerDir("mistral-7b-v0.1")} {"}"}
            alignment: {"{"} top_k: 32 {"}"}
            loss: {"{"} kind: reverse_kl, temperature: 2, hard_label_weight: 0.4 {"}"}
            train: {"{"} steps: 2, batch_size: 2, lr: 0.001, teachers: online, logits_chunk: {chunk}, precision: {precision} {"}"}
            """);

        List<StepMetrics> Train(string recipe)
        {
            var loaded = RecipeLoader.Load(recipe);
            var expected = TorchDevices.Of(loaded.Device);
            using var run = new DistillationRecipe(loaded, TextWriter.Null);
            var probed = 0;
            run.Probe = s =>
            {
                probed++;
                Assert.True(On(s.Device, expected), $"the step runs on {s.Device}, the recipe names {expected}");
                var all = Everything(s).ToList();
                Assert.Contains(all, x => x.What.StartsWith("exp_avg") == (s.Step > 1));
                foreach (var (what, t) in all)
                    Assert.True(On(t.device, expected), $"{what} is on {t.device}, the recipe names {expected}");
            };
            run.Setup();
            var steps = new List<StepMetrics>();
            run.Train(steps.Add);
            Assert.Equal(2, probed);
            return steps;
        }
        var whole = Train(Recipe("whole", 0));
        var chunked = Train(Recipe("chunked", 7));

        // The same steps in another summation order: rounding, amplified a little by one AdamW step.
        // Reverse KL is a small difference of per-position sums the size of log V, so its rounding is
        // relative to the loss rather than to itself. In bfloat16 the chunked path gives the float32
        // master to no pass, or it would fail on mixed dtypes.
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(whole[i].Loss, chunked[i].Loss, tolerance * Math.Abs(whole[i].Loss));
            Assert.Equal(whole[i].Distillation!.Value, chunked[i].Distillation!.Value, tolerance * Math.Abs(whole[i].Loss));
            Assert.Equal(whole[i].GradNorm, chunked[i].GradNorm, 10 * tolerance * whole[i].GradNorm);
        }
    }

    /// <summary>
    /// `.cpu()` in the training and teacher code only where a result is read back into arrays
    /// (`.cpu().data&lt;T&gt;()`, optionally through `.contiguous()`), and no device hard-coded as CPU:
    /// devices come from the recipe or worker through <see cref="TorchDevices.Of"/>.
    /// </summary>
    [Fact]
    public void HotPath_HasNoHiddenHostCopies_AndNoHardCodedDevice()
    {
        var root = Path.Combine(MultiTeacher.Tests.Recipes.RecipeLoaderTests.RepoRoot(), "src", "MultiTeacher");
        var offenders = new List<string>();
        foreach (var folder in new[] { "Training", "Teachers", "Losses", "Mixing", "Cache" })
            foreach (var file in Directory.GetFiles(Path.Combine(root, folder), "*.cs"))
                foreach (var (line, n) in File.ReadLines(file).Select((l, i) => (l, i + 1)))
                {
                    var code = line.TrimStart();
                    if (code.StartsWith("//")) continue;
                    var hidden = Regex.Matches(code, @"\.cpu\(\)(?!(\.contiguous\(\))?\.data<)").Count > 0;
                    var hardCoded = Regex.IsMatch(code, @"(?<![""\w.])CPU\b|DeviceType\.CPU");
                    if (hidden || hardCoded) offenders.Add($"{folder}/{Path.GetFileName(file)}:{n}: {code}");
                }
        Assert.True(offenders.Count == 0, string.Join("\n", offenders));
    }
}
