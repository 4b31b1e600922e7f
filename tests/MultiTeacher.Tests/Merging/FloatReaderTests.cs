using MultiTeacher.Merging;
using static TorchSharp.torch;

namespace MultiTeacher.Tests.Merging;

[Trait("Category", TestCategory.Unit)]
public class FloatReaderTests
{
    [Theory]
    [InlineData(ScalarType.BFloat16)]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float16)]
    public void AllFinite_FindsNaNAndInfinities_InTheVectorisedPartAndTheTail(ScalarType dtype)
    {
        // 37 entries: two vectors of 16 bf16 (or four of 8 floats) and a tail; the largest finite value passes.
        var largest = dtype == ScalarType.Float16 ? 65504f : dtype == ScalarType.BFloat16 ? 3.3895314e38f : float.MaxValue;
        var values = Enumerable.Range(0, 37).Select(i => i % 2 == 0 ? -largest : 0.5f * i).ToArray();
        Assert.True(FloatReader.AllFinite(tensor(values).to(dtype)));
        foreach (var position in new[] { 0, 20, 36 })
            foreach (var bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
            {
                var copy = (float[])values.Clone();
                copy[position] = bad;
                Assert.False(FloatReader.AllFinite(tensor(copy).to(dtype)), $"{bad} at {position}");
            }
    }

    [Theory]
    [InlineData(ScalarType.BFloat16)]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float16)]
    public void Read_GivesTheFloat32ValuesOfAnyRange(ScalarType dtype)
    {
        var source = randn(53, generator: new Generator(3)).to(dtype);
        var expected = source.to(ScalarType.Float32).data<float>().ToArray();
        using var reader = new FloatReader(source);
        var into = new float[41];
        reader.Read(7, into);
        Assert.Equal(expected.Skip(7).Take(41), into);
    }
}
