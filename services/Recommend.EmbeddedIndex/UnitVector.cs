using System.Numerics.Tensors;

namespace Recommend.EmbeddedIndex;

/// <summary>Cosine similarity of unit vectors is their dot product, so everything is normalised once, on the way in.</summary>
internal static class UnitVector
{
    /// <summary>A normalised copy; the caller's array is never modified.</summary>
    public static float[] Normalise(ReadOnlySpan<float> vector, string paramName)
    {
        var norm = TensorPrimitives.Norm(vector);
        if (!float.IsFinite(norm) || norm == 0)
            throw new ArgumentException("A vector must have finite components and a non-zero length to be compared by cosine.", paramName);
        var unit = new float[vector.Length];
        TensorPrimitives.Divide(vector, norm, unit);
        return unit;
    }
}
