using MultiTeacher.Runtime;

namespace MultiTeacher.Tests.Runtime;

[Trait("Category", TestCategory.Unit)]
public class GlibcAllocatorTests
{
    [Fact]
    public void KeepFreedMemory_IsAcceptedByGlibc_OnLinux()
    {
        if (!OperatingSystem.IsLinux()) return;
        Assert.True(GlibcAllocator.KeepFreedMemory());
        Assert.True(GlibcAllocator.KeepFreedMemory());   // idempotent
    }
}
