namespace MultiTeacher.Tests.Mixing;

/// <summary>Compares float sequences element by element within an absolute tolerance.</summary>
internal sealed class FloatTolerance(float tolerance) : IEqualityComparer<float>
{
    public bool Equals(float a, float b) => Math.Abs(a - b) <= tolerance;
    public int GetHashCode(float x) => 0;
}
