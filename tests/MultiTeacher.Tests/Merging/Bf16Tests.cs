using System.Runtime.InteropServices;
using MultiTeacher.Merging;
using static TorchSharp.torch;

namespace MultiTeacher.Tests.Merging;

[Trait("Category", TestCategory.Unit)]
public class Bf16Tests
{
    [Fact]
    public void Rounding_to_bf16_gives_libtorchs_bits()
    {
        // Random values over many scales, then the cases rounding decides: halfway between two bf16
        // values with an even and an odd kept half (ties go to even), just above and below halfway,
        // the largest float (rounds to +Inf), subnormals, signed zeros and infinities. 1,000 + 13
        // values: whole vectors and a tail.
        var random = (randn(1000, generator: new Generator(2)) * exp(randn(1000, generator: new Generator(3)) * 8)).data<float>().ToArray();
        uint[] special = [0x3F80_8000, 0x3F81_8000, 0xBF81_8000, 0x3F80_8001, 0x3F81_7FFF, 0x7F7F_FFFF, 0xFF7F_FFFF, 0x0001_8000, 0x0000_8000, 0x8000_0000, 0, 0x7F80_0000, 0xFF80_0000];
        var values = random.Concat(special.Select(BitConverter.UInt32BitsToSingle)).ToArray();
        var expected = MemoryMarshal.Cast<byte, ushort>(tensor(values).to(ScalarType.BFloat16).bytes).ToArray();
        var actual = new ushort[values.Length];
        Bf16.Round(values, actual);
        Assert.Equal(expected, actual);
        // Independently of libtorch: the two ties, by hand.
        Assert.Equal((ushort)0x3F80, actual[1000]);
        Assert.Equal((ushort)0x3F82, actual[1001]);
    }
}
