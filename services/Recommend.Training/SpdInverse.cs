using System.Numerics.Tensors;

namespace Recommend.Training;

/// <summary>
/// Inverse of a symmetric positive definite matrix (EASE's P = (XᵀX + λI)⁻¹) through its Cholesky factor:
/// A = LLᵀ, M = L⁻ᵀ, A⁻¹ = MMᵀ. Every step is a sequence of contiguous dot products (TensorPrimitives.Dot), and rows are
/// processed in blocks so each row read from memory serves a whole block: the matrix is far larger than the caches.
/// About n³/2 multiply-adds in all.
/// </summary>
internal static class SpdInverse
{
    private const int Block = 32;

    /// <summary>Replaces <paramref name="a"/> (row-major n × n, symmetric positive definite) with its inverse.</summary>
    /// <exception cref="ArgumentException">The matrix is not positive definite.</exception>
    public static void InvertInPlace(double[] a, int n, int threads, CancellationToken ct)
    {
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads), CancellationToken = ct };
        Cholesky(a, n, parallel);
        var m = new double[(long)n * n];
        InverseTranspose(a, m, n, parallel);
        MultiplyByTranspose(m, a, n, parallel);
    }

    /// <summary>Lower factor L into the lower triangle of <paramref name="a"/>, row by row (Cholesky–Crout).</summary>
    private static void Cholesky(double[] a, int n, ParallelOptions parallel)
    {
        for (var start = 0; start < n; start += Block)
        {
            var end = Math.Min(n, start + Block);
            // Columns left of the block depend only on finished rows: the block's rows take them in parallel.
            Parallel.For(start, end, parallel, i =>
            {
                var rowI = a.AsSpan(i * n, n);
                for (var j = 0; j < start; j++)
                {
                    var rowJ = a.AsSpan(j * n, j);
                    rowI[j] = (rowI[j] - TensorPrimitives.Dot(rowI[..j], rowJ)) / a[j * n + j];
                }
            });
            // The block's own triangle, in order.
            for (var i = start; i < end; i++)
            {
                var rowI = a.AsSpan(i * n, n);
                for (var j = start; j <= i; j++)
                {
                    var sum = rowI[j] - TensorPrimitives.Dot(rowI[..j], a.AsSpan(j * n, j));
                    if (i == j)
                    {
                        if (!(sum > 0)) throw new ArgumentException($"the matrix is not positive definite (pivot {i})");
                        rowI[i] = Math.Sqrt(sum);
                    }
                    else
                    {
                        rowI[j] = sum / a[j * n + j];
                    }
                }
            }
        }
    }

    /// <summary>
    /// M = L⁻ᵀ (upper triangular): row j of M is column j of L⁻¹, and each row depends only on itself and L, so blocks
    /// of rows run in parallel: M[j,i] = −(L[i, j..i) · M[j, j..i)) / L[i,i].
    /// </summary>
    private static void InverseTranspose(double[] l, double[] m, int n, ParallelOptions parallel)
    {
        Parallel.For(0, (n + Block - 1) / Block, parallel, block =>
        {
            var start = block * Block;
            var end = Math.Min(n, start + Block);
            for (var j = start; j < end; j++) m[(long)j * n + j] = 1 / l[j * n + j];
            for (var i = start + 1; i < n; i++)
            {
                var rowL = l.AsSpan(i * n, n);
                for (var j = start; j < Math.Min(end, i); j++)
                {
                    var rowM = m.AsSpan(j * n, n);
                    rowM[i] = -TensorPrimitives.Dot(rowL[j..i], rowM[j..i]) / rowL[i];
                }
            }
        });
    }

    /// <summary>A⁻¹ = M·Mᵀ: entry (r, c) for c ≥ r is M[r, c..) · M[c, c..) (M is upper triangular), mirrored below.</summary>
    private static void MultiplyByTranspose(double[] m, double[] result, int n, ParallelOptions parallel)
    {
        Parallel.For(0, (n + Block - 1) / Block, parallel, block =>
        {
            var start = block * Block;
            var end = Math.Min(n, start + Block);
            for (var c = start; c < n; c++)
            {
                var rowC = m.AsSpan(c * n + c, n - c);
                for (var r = start; r < Math.Min(end, c + 1); r++)
                {
                    var value = TensorPrimitives.Dot(m.AsSpan(r * n + c, n - c), rowC);
                    result[r * n + c] = value;
                    result[c * n + r] = value;
                }
            }
        });
    }
}
