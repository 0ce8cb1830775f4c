using System.Numerics.Tensors;

namespace Recommend.EmbeddedIndex;

/// <summary>
/// The unit vectors of a matrix's rows, one after another, in f32 or in f16. F16 halves the largest thing a big
/// version keeps resident (1 M × 256 dimensions: 0.5 GB instead of 1 GB); scores are still computed in f32, from the
/// rounded values (an error of about 1e-3 in a cosine). Callers hold the matrix's lock.
/// </summary>
internal sealed class RowVectors
{
    private readonly int _dimension;
    private float[] _single = [];
    private Half[] _half = [];

    /// <param name="precision">F16, or else F32 (the options accept nothing else).</param>
    public RowVectors(int dimension, VectorPrecision precision, int rows)
    {
        _dimension = dimension;
        IsHalf = precision == VectorPrecision.F16;
        Resize(rows);
    }

    private bool IsHalf { get; }

    public void Resize(int rows)
    {
        if (IsHalf)
            Array.Resize(ref _half, rows * _dimension);
        else
            Array.Resize(ref _single, rows * _dimension);
    }

    public void Write(int row, ReadOnlySpan<float> unitVector)
    {
        if (IsHalf)
            TensorPrimitives.ConvertToHalf(unitVector, _half.AsSpan(row * _dimension, _dimension));
        else
            unitVector.CopyTo(_single.AsSpan(row * _dimension, _dimension));
    }

    /// <summary>A buffer for <see cref="Dot"/>: one per search, so f16 rows are widened without an allocation each.</summary>
    public float[] NewScratch() => IsHalf ? new float[_dimension] : [];

    public float Dot(int row, ReadOnlySpan<float> query, float[] scratch)
    {
        if (!IsHalf)
            return TensorPrimitives.Dot(query, _single.AsSpan(row * _dimension, _dimension));
        TensorPrimitives.ConvertToSingle(_half.AsSpan(row * _dimension, _dimension), scratch);
        return TensorPrimitives.Dot(query, scratch);
    }

    /// <summary>The row as f32 into <paramref name="destination"/>.</summary>
    public void Read(int row, Span<float> destination)
    {
        if (IsHalf)
            TensorPrimitives.ConvertToSingle(_half.AsSpan(row * _dimension, _dimension), destination);
        else
            _single.AsSpan(row * _dimension, _dimension).CopyTo(destination);
    }

    /// <summary>Adds <paramref name="weight"/> × the row to <paramref name="sum"/>.</summary>
    public void MultiplyAdd(int row, float weight, float[] sum, float[] scratch)
    {
        if (!IsHalf)
        {
            TensorPrimitives.MultiplyAdd(_single.AsSpan(row * _dimension, _dimension), weight, sum, sum);
            return;
        }
        TensorPrimitives.ConvertToSingle(_half.AsSpan(row * _dimension, _dimension), scratch);
        TensorPrimitives.MultiplyAdd(scratch, weight, sum, sum);
    }

    /// <summary>Whether the row holds <paramref name="unitVector"/> as this precision would store it.</summary>
    public bool Holds(int row, ReadOnlySpan<float> unitVector)
    {
        if (!IsHalf)
            return _single.AsSpan(row * _dimension, _dimension).SequenceEqual(unitVector);
        var stored = _half.AsSpan(row * _dimension, _dimension);
        for (var i = 0; i < stored.Length; i++)
        {
            if (stored[i] != (Half)unitVector[i])
                return false;
        }
        return true;
    }

    /// <summary>Rows <paramref name="start"/> … start + count − 1 as f32, one after another.</summary>
    public float[] Copy(int start, int count)
    {
        var copy = new float[count * _dimension];
        if (IsHalf)
            TensorPrimitives.ConvertToSingle(_half.AsSpan(start * _dimension, copy.Length), copy);
        else
            _single.AsSpan(start * _dimension, copy.Length).CopyTo(copy);
        return copy;
    }

    public void Move(int from, int to)
    {
        if (IsHalf)
            _half.AsSpan(from * _dimension, _dimension).CopyTo(_half.AsSpan(to * _dimension, _dimension));
        else
            _single.AsSpan(from * _dimension, _dimension).CopyTo(_single.AsSpan(to * _dimension, _dimension));
    }
}
