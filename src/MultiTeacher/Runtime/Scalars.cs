using TorchSharp;

namespace MultiTeacher.Runtime;

/// <summary>Scalars that live as long as the process, for tensor arithmetic on hot paths.</summary>
/// <remarks>
/// A number passed inline to a TorchSharp operation (including the alpha = 1 that <c>a + b</c>
/// passes for you) becomes a finalizable Scalar that nothing references while libtorch reads it, so
/// a garbage collection on another thread can free it mid-call (dotnet/TorchSharp#1496). A static
/// one is never collected.
/// </remarks>
public static class Scalars
{
    /// <summary>1, the alpha of a plain addition.</summary>
    public static readonly Scalar One = 1.ToScalar();

    /// <summary>−1, the alpha that makes an addition a subtraction.</summary>
    public static readonly Scalar MinusOne = (-1).ToScalar();

    /// <summary>0, what probabilities are compared with.</summary>
    public static readonly Scalar Zero = 0.ToScalar();

    /// <summary>½, for midpoints.</summary>
    public static readonly Scalar Half = 0.5.ToScalar();

    /// <summary>−∞, what masked log-probabilities are filled with.</summary>
    public static readonly Scalar NegativeInfinity = double.NegativeInfinity.ToScalar();

    /// <summary>+∞, what masked minimum candidates are filled with.</summary>
    public static readonly Scalar PositiveInfinity = double.PositiveInfinity.ToScalar();
}
