using System.Diagnostics;
using MultiTeacher.Teachers;

namespace MultiTeacher.Tests.Teachers;

/// <summary>The per-phase seconds a cache job logs, and reading them back from a log line.</summary>
[Trait("Category", TestCategory.Unit)]
public sealed class PhaseClockTests
{
    [Fact]
    public void Time_AddsTheWorksSecondsToItsPhaseOnly()
    {
        var clock = new PhaseClock();
        var outer = Stopwatch.StartNew();
        var result = clock.Time(CachePhase.Samples, () => Enumerable.Range(0, 200_000).Select(i => (long)i * i).Sum());
        clock.Time(CachePhase.Samples, () => { });
        var elapsed = outer.Elapsed.TotalSeconds;
        Assert.Equal(2_666_646_666_700_000L, result);                          // Σ i² for i < n = (n−1)n(2n−1)/6
        Assert.InRange(clock[CachePhase.Samples], double.Epsilon, elapsed);
        Assert.Equal(0, clock[CachePhase.Inputs]);
        Assert.Equal(0, clock[CachePhase.Teacher]);
        Assert.Equal(0, clock[CachePhase.Cache]);
    }

    [Fact]
    public void Time_CountsAFailedPhaseToo()
    {
        var clock = new PhaseClock();
        Assert.Throws<InvalidDataException>(() => clock.Time(CachePhase.Inputs, () => throw new InvalidDataException("changed")));
        Assert.True(clock[CachePhase.Inputs] > 0);
    }

    [Fact]
    public void TheLogLine_ReadsBackFromBehindALogPrefix()
    {
        var line = "[run 4 cache-teacher llama/2] phases: inputs 0.250 s, samples 1.500 s, teacher 0.000 s, cache 12.125 s";
        var phases = PhaseClock.Parse(line)!;
        Assert.Equal(0.25, phases[CachePhase.Inputs]);
        Assert.Equal(1.5, phases[CachePhase.Samples]);
        Assert.Equal(0, phases[CachePhase.Teacher]);
        Assert.Equal(12.125, phases[CachePhase.Cache]);

        var clock = new PhaseClock();
        clock.Time(CachePhase.Cache, () => { });
        Assert.Equal(clock[CachePhase.Cache], PhaseClock.Parse("prefix " + clock)![CachePhase.Cache], 3);
        Assert.Null(PhaseClock.Parse("teacher llama: cache built, 3,200 positions"));
        Assert.Null(PhaseClock.Parse("phases: inputs 0.250 s, samples 1.500 s"));             // a phase missing
    }
}
