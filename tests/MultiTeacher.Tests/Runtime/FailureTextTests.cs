using MultiTeacher.Runtime;
using static TorchSharp.torch;

namespace MultiTeacher.Tests.Runtime;

[Trait("Category", TestCategory.Unit)]
public sealed class FailureTextTests
{
    [Fact]
    public void ALibtorchError_KeepsItsMessage_WithoutTheCppBacktrace()
    {
        using var scope = NewDisposeScope();
        var e = Assert.ThrowsAny<Exception>(() => ones(3).add(ones(4)));
        Assert.Contains("frame #", e.Message);
        var text = FailureText.Of(e);
        Assert.Equal("The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 0", text);
    }

    [Fact]
    public void AMessageWithoutABacktrace_IsUnchanged() =>
        Assert.Equal("recipe.yaml:3:5: unknown key 'tmperature'\nsecond line", FailureText.Of("recipe.yaml:3:5: unknown key 'tmperature'\nsecond line"));
}
