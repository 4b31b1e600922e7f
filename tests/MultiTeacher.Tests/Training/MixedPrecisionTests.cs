using System.Runtime.InteropServices;
using MultiTeacher.Merging;
using MultiTeacher.Models;
using MultiTeacher.Recipes;
using MultiTeacher.Tests.Integration;
using MultiTeacher.Tests.Models;
using MultiTeacher.Training;
using static TorchSharp.torch;

namespace MultiTeacher.Tests.Training;

/// <summary>
/// train.precision: bfloat16 computes in a bfloat16 copy of the student while AdamW updates its
/// float32 master weights: checked against Adam's first step worked by hand and against an
/// independent float32 → bfloat16 rounding.
/// </summary>
[Trait("Category", TestCategory.Unit)]
public sealed class MixedPrecisionTests : TempDirectoryTest
{
    private static ushort[] Bits(Tensor bf16) => MemoryMarshal.Cast<byte, ushort>(bf16.contiguous().bytes).ToArray();

    private static ushort[] Rounded(Tensor f32)
    {
        var values = f32.contiguous().data<float>().ToArray();
        var bits = new ushort[values.Length];
        Bf16.Round(values, bits);
        return bits;
    }

    [Fact]
    public void ComputeCopy_IsTheMasterRoundedToNearestEven_AfterEveryPush()
    {
        using var master = TinyModels.Create(TinyModels.Config("mistral"), seed: 3);
        using var mixed = MixedPrecision.For(StudentPrecision.Bfloat16, master)!;
        var compute = mixed.Compute.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        void Check()
        {
            foreach (var (name, p) in master.named_parameters())
            {
                Assert.Equal(ScalarType.BFloat16, compute[name].dtype);
                Assert.Equal(Rounded(p), Bits(compute[name]));
            }
        }
        Check();
        using (no_grad())
            foreach (var p in master.parameters()) p.add_(randn(p.shape, generator: new Generator(7)) * 1e-3);
        Assert.Contains(master.named_parameters(), p => !Rounded(p.parameter).SequenceEqual(Bits(compute[p.name])));
        mixed.PushWeights();
        Check();
        Assert.Null(MixedPrecision.For(StudentPrecision.Float32, master));
    }

    [Fact]
    public void PulledGradients_AreTheComputeCopysWidenedToFloat32()
    {
        using var master = TinyModels.Create(TinyModels.Config("qwen3"), seed: 4);
        using var mixed = MixedPrecision.For(StudentPrecision.Bfloat16, master)!;
        mixed.Compute.forward(tensor(new long[,] { { 1, 5, 9, 2 } })).to(float32).pow(2).sum().backward();
        mixed.PullGradients();
        var compute = mixed.Compute.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, p) in master.named_parameters())
        {
            Assert.Equal(ScalarType.Float32, p.grad!.dtype);
            // bfloat16 is the top half of a float32: widening shifts the bits up by 16.
            var widened = Bits(compute[name].grad!).Select(b => BitConverter.Int32BitsToSingle(b << 16)).ToArray();
            Assert.Equal(widened, p.grad.data<float>().ToArray());
        }
        mixed.ZeroGradients();
        Assert.All(mixed.Compute.parameters(), p => Assert.Null(p.grad));
    }

    [Fact]
    public void FirstStep_MovesEveryMasterWeightByAdamsFirstStep_FromTheBfloat16Gradients()
    {
        var runs = new TinyRuns(TempDir);
        runs.WriteData(trainDocuments: 1, trainChars: 1500);
        var config = runs.WriteConfig("student", "mistral", 32000);
        const double lr = 1e-5;
        var recipe = RecipeLoader.Load(runs.WriteRecipe("bf16", $"""
            seed: 6
            data: {"{"} train: train.txt, seq_len: 24 {"}"}
            student: {"{"} config: {config}, tokenizer: {TestAssets.TokenizerDir("mistral-7b-v0.1")} {"}"}
            train: {"{"} steps: 1, batch_size: 2, lr: {lr}, weight_decay: 0, clip: 0, schedule: constant, precision: bfloat16 {"}"}
            """));
        using var run = new DistillationRecipe(recipe, TextWriter.Null);
        run.Setup();
        var before = run.Student.named_parameters().ToDictionary(p => p.name, p => p.parameter.data<float>().ToArray());
        var grads = new Dictionary<string, float[]>();
        run.Probe = s =>
        {
            foreach (var (name, p) in s.Student.named_parameters())
            {
                Assert.Equal(ScalarType.BFloat16, p.dtype);
                Assert.Equal(ScalarType.BFloat16, p.grad!.dtype);
                grads[name] = p.grad.to(float32).data<float>().ToArray();
            }
        };
        run.Train();

        // Adam's first step: m̂ = g and v̂ = g² after bias correction, so w ← w − lr·g/(|g| + ε).
        // A step taken on the bfloat16 weights would round most of these 1e-5 moves away.
        var moved = 0;
        foreach (var (name, p) in run.Student.named_parameters())
        {
            Assert.Equal(ScalarType.Float32, p.dtype);
            var after = p.data<float>().ToArray();
            for (var i = 0; i < after.Length; i++)
            {
                var g = (double)grads[name][i];
                var expected = before[name][i] - lr * g / (Math.Abs(g) + 1e-8);
                // One float32 ulp of the weight (norm weights sit at 1), far below the 1e-5 step.
                Assert.True(Math.Abs(after[i] - expected) <= 1e-9 + 1.2e-7 * Math.Abs(expected), $"{name}[{i}]: {after[i]} against {expected}");
                if (after[i] != before[name][i]) moved++;
            }
        }
        Assert.True(moved > run.Student.ParameterCount / 2, $"{moved} of {run.Student.ParameterCount} weights moved");
    }

    [Fact]
    public void Bfloat16Run_StartsAtTheFloat32Loss_AndSavesAFloat32Student()
    {
        var runs = new TinyRuns(TempDir);
        runs.WriteData(trainDocuments: 1, trainChars: 1500);
        var config = runs.WriteConfig("student", "qwen2", 32000);
        double FirstLoss(string precision)
        {
            var recipe = RecipeLoader.Load(runs.WriteRecipe(precision, $"""
                seed: 8
                data: {"{"} train: train.txt, seq_len: 24 {"}"}
                student: {"{"} config: {config}, tokenizer: {TestAssets.TokenizerDir("mistral-7b-v0.1")} {"}"}
                train: {"{"} steps: 2, batch_size: 2, precision: {precision} {"}"}
                """));
            using var run = new DistillationRecipe(recipe, TextWriter.Null);
            run.Setup();
            return run.Train().FirstLoss;
        }
        var (f32, bf16) = (FirstLoss("float32"), FirstLoss("bfloat16"));
        // The same initial weights and batch; bfloat16 keeps 8 significant bits, so the loss agrees to
        // about 1% (a run on other data or other weights would differ by far more at log(32000) ≈ 10.4).
        Assert.NotEqual(f32, bf16);
        Assert.Equal(f32, bf16, 0.01 * f32);
        using var saved = PretrainedModel.Load(Path.Combine(runs.Output("bfloat16"), "student"));
        Assert.Equal("float32", saved.Config.TorchDtype);
    }
}
