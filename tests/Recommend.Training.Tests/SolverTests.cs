using Recommend.Core.History;

namespace Recommend.Training.Tests;

/// <summary>The dense EASE solve and the fitter's kNN tail, on matrices small enough to check by other means.</summary>
public sealed class SolverTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(31)]
    [InlineData(70)] // crosses the solver's 32-row blocks
    public void The_inverse_times_the_matrix_is_the_identity(int n)
    {
        var random = new Random(n);
        // A = RᵀR + nI: symmetric positive definite.
        var r = Enumerable.Range(0, n * n).Select(_ => random.NextDouble()).ToArray();
        var a = new double[n * n];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
            {
                for (var k = 0; k < n; k++) a[i * n + j] += r[k * n + i] * r[k * n + j];
                if (i == j) a[i * n + j] += n;
            }
        }
        var inverse = (double[])a.Clone();

        SpdInverse.InvertInPlace(inverse, n, threads: 2, CancellationToken.None);

        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
            {
                var product = 0.0;
                for (var k = 0; k < n; k++) product += a[i * n + k] * inverse[k * n + j];
                Assert.Equal(i == j ? 1 : 0, product, 9);
            }
        }
    }

    [Fact]
    public void A_matrix_that_is_not_positive_definite_is_refused()
    {
        double[] a = [1, 2, 2, 1];
        Assert.Throws<ArgumentException>(() => SpdInverse.InvertInPlace(a, 2, 1, CancellationToken.None));
    }

    /// <summary>
    /// EASE's optimality condition, independent of how B was computed: (XᵀX + λI)·B equals XᵀX off the diagonal
    /// (the zero-diagonal constraint only moves the diagonal), and diag(B) = 0.
    /// </summary>
    [Fact]
    public async Task Ease_satisfies_its_closed_form_condition()
    {
        var matrix = await Matrix(
            ("u1", ["a", "b"]), ("u2", ["a", "b", "c"]), ("u3", ["b", "c"]), ("u4", ["c", "d"]), ("u5", ["a", "d"]), ("u6", ["a", "b", "d"]));
        const double lambda = 2;
        var n = matrix.Items.Count;
        var all = Enumerable.Range(0, n).ToArray();

        var ease = Ease.Fit(matrix, all, lambda, 1, CancellationToken.None);

        var gram = new double[n, n];
        foreach (var user in matrix.Users)
        {
            foreach (var i in user)
            {
                foreach (var j in user) gram[i, j]++;
            }
        }
        for (var i = 0; i < n; i++)
        {
            Assert.Equal(0, ease.Row(i)[i]);
            for (var j = 0; j < n; j++)
            {
                if (i == j) continue;
                var product = 0.0;
                for (var k = 0; k < n; k++) product += (gram[i, k] + (i == k ? lambda : 0)) * ease.Row(k)[j];
                Assert.Equal(gram[i, j], product, 9);
            }
        }
    }

    [Fact]
    public async Task Products_beyond_the_dense_set_get_knn_neighbours_by_shared_customers()
    {
        // a and b are the most bought (dense); x, y, z are the tail: y is bought with x by three customers, z once.
        var matrix = await Matrix(
            ("u1", ["a", "b", "x", "y"]), ("u2", ["a", "b", "x", "y"]), ("u3", ["a", "b", "x", "y"]), ("u4", ["a", "b", "x", "z"]),
            ("u5", ["a", "b"]), ("u6", ["a", "b"]));

        var fitted = ItemModelFitter.Fit(matrix, new TrainingOptions { MaxDenseItems = 2, KnnShrinkage = 1, Neighbours = 5 }, CancellationToken.None);

        Assert.Equal(2, fitted.DenseItems);
        var ofX = fitted.Rows["x"];
        Assert.Equal(["a", "b", "y", "z"], ofX.Select(n => n.ProductId).Order(StringComparer.Ordinal));
        Assert.True(ofX.Single(n => n.ProductId == "y").Weight > ofX.Single(n => n.ProductId == "z").Weight);
        Assert.True(ofX.Zip(ofX.Skip(1)).All(p => p.First.Weight >= p.Second.Weight));
        // Dense rows are EASE over {a, b} only: two products always bought together predict each other.
        Assert.Equal("b", Assert.Single(fitted.Rows["a"]).ProductId);
        Assert.Contains("knn(shrinkage=1, items=3)", fitted.Method);
    }

    [Fact]
    public void Top_positive_keeps_the_largest_positive_values_in_order_and_skips_one()
    {
        double[] values = [0.5, -1, 2, 0, 0.5, 3, 1];

        var top = ItemModelFitter.TopPositive(values, 3, skip: 5);

        Assert.Equal([(2, 2.0), (6, 1.0), (0, 0.5)], top);
    }

    [Fact]
    public async Task The_matrix_keeps_each_customers_most_recent_products_only()
    {
        var t = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        PurchaseSummary[] summaries =
        [
            new("u1", "old", 1, t), new("u1", "new", 3, t.AddDays(2)), new("u1", "mid", 1, t.AddDays(1)), new("u2", "old", 2, t),
        ];

        var matrix = await PurchaseMatrix.BuildAsync(summaries.ToAsyncEnumerable(), maxItemsPerUser: 2, CancellationToken.None);

        Assert.Equal(["new", "mid"], matrix.Users[0].Select(i => matrix.Items[i]).OrderBy(i => i == "mid"));
        Assert.Equal(["old"], matrix.Users[1].Select(i => matrix.Items[i]));
        Assert.Equal(7, matrix.Purchases);
    }

    private static Task<PurchaseMatrix> Matrix(params (string User, string[] Items)[] users) =>
        PurchaseMatrix.BuildAsync(
            users.SelectMany(u => u.Items.Select(item => new PurchaseSummary(u.User, item, 1, DateTimeOffset.UnixEpoch))).ToAsyncEnumerable(),
            int.MaxValue, CancellationToken.None);
}
