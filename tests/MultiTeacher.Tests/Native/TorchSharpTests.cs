using TorchSharp;
using static TorchSharp.torch;

namespace MultiTeacher.Tests.Native;

[Trait("Category", TestCategory.Unit)]
public class TorchSharpTests
{
    [Fact]
    public void NativeLibTorch_Initialises_AndMultipliesMatrices()
    {
        // Fails when libtorch's native dependencies (e.g. GLIBCXX_3.4.32) are missing on the machine.
        using var scope = NewDisposeScope();
        var a = tensor(new float[] { 1, 2, 3, 4 }, [2, 2]);
        var b = tensor(new float[] { 5, 6, 7, 8 }, [2, 2]);
        var c = matmul(a, b);   // (2, 2)
        Assert.Equal(new float[] { 19, 22, 43, 50 }, c.data<float>().ToArray());
        Assert.Equal(DeviceType.CPU, c.device_type);
    }
}
