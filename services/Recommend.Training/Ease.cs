namespace Recommend.Training;

/// <summary>
/// EASE (Steck 2019): B = I − P·diag(1/diag P) with P = (XᵀX + λI)⁻¹, i.e. B[i,j] = −P[i,j] / P[j,j] and a zero
/// diagonal; a user's score for j is Σᵢ x_i·B[i,j]. Exact over the items given: cost items³ time, 2 × items² doubles.
/// </summary>
public sealed class Ease
{
    private readonly int _size;

    private Ease(int size, double[] weights)
    {
        _size = size;
        Weights = weights;
    }

    /// <summary>B, row-major, rows and columns in the order of the items it was fitted over.</summary>
    public double[] Weights { get; }

    public ReadOnlySpan<double> Row(int position) => Weights.AsSpan(position * _size, _size);

    /// <param name="items">Item indices of <paramref name="matrix"/> to fit over (the rest are ignored).</param>
    public static Ease Fit(PurchaseMatrix matrix, int[] items, double lambda, int threads, CancellationToken ct)
    {
        var n = items.Length;
        var position = new int[matrix.Items.Count];
        Array.Fill(position, -1);
        for (var k = 0; k < n; k++) position[items[k]] = k;

        var g = new double[(long)n * n];
        var covered = new List<int>();
        foreach (var user in matrix.Users)
        {
            ct.ThrowIfCancellationRequested();
            covered.Clear();
            foreach (var item in user)
            {
                if (position[item] >= 0) covered.Add(position[item]);
            }
            // Only the lower triangle: the Cholesky factorisation reads no more.
            foreach (var a in covered)
            {
                var row = a * n;
                foreach (var b in covered)
                {
                    if (b <= a) g[row + b] += 1;
                }
            }
        }
        for (var k = 0; k < n; k++) g[k * n + k] += lambda;

        SpdInverse.InvertInPlace(g, n, threads, ct);
        var p = g;
        var diagonal = new double[n];
        for (var j = 0; j < n; j++) diagonal[j] = p[j * n + j];
        for (var i = 0; i < n; i++)
        {
            var row = p.AsSpan(i * n, n);
            for (var j = 0; j < n; j++) row[j] = i == j ? 0 : -row[j] / diagonal[j];
        }
        return new Ease(n, p);
    }
}
