using System.Globalization;
using Recommend.Core.Learning;

namespace Recommend.Training;

/// <summary>
/// Fits the learned item-to-item model: EASE over the <see cref="TrainingOptions.MaxDenseItems"/> most purchased
/// products (exact, but cubic), and for the long tail beyond them item-kNN — cosine over customers with shrinkage,
/// c_ij / (√(n_i·n_j) + s) — whose cost grows with the purchases, not the catalog. Each product keeps its top
/// <see cref="TrainingOptions.Neighbours"/> positive neighbours, and an EASE row also its
/// <see cref="TrainingOptions.NegativeNeighbours"/> most negative ones, after them.
/// </summary>
public static class ItemModelFitter
{
    public sealed record Fitted(Dictionary<string, ItemNeighbour[]> Rows, string Method, int DenseItems);

    public static Fitted Fit(PurchaseMatrix matrix, TrainingOptions options, CancellationToken ct)
    {
        var itemCount = matrix.Items.Count;
        var customers = new int[itemCount];
        foreach (var user in matrix.Users)
        {
            foreach (var item in user) customers[item]++;
        }
        // Most purchased first; ties by id so the dense set is the same on every run.
        var byPopularity = Enumerable.Range(0, itemCount)
            .OrderByDescending(i => customers[i]).ThenBy(i => matrix.Items[i], StringComparer.Ordinal).ToArray();
        var dense = byPopularity.Take(Math.Min(options.MaxDenseItems, itemCount)).ToArray();
        var tail = byPopularity.Skip(dense.Length).ToArray();

        var rows = new Dictionary<string, ItemNeighbour[]>(itemCount, StringComparer.Ordinal);
        if (dense.Length > 1)
        {
            var ease = Ease.Fit(matrix, dense, options.Lambda, options.SolverThreads, ct);
            for (var k = 0; k < dense.Length; k++)
            {
                var row = ease.Row(k);
                var top = TopPositive(row, options.Neighbours, skip: k);
                if (top.Length == 0) continue;
                var negated = new double[row.Length];
                for (var j = 0; j < row.Length; j++) negated[j] = -row[j];
                var bottom = TopPositive(negated, options.NegativeNeighbours, skip: k).Select(t => (t.Index, Weight: -t.Weight)).Reverse();
                rows[matrix.Items[dense[k]]] = top.Concat(bottom).Select(t => new ItemNeighbour(matrix.Items[dense[t.Index]], (float)t.Weight)).ToArray();
            }
        }
        if (tail.Length > 0) AddKnn(matrix, tail, customers, options, rows, ct);

        var method = string.Create(CultureInfo.InvariantCulture,
            $"ease(lambda={options.Lambda}, items={dense.Length}, negative {options.NegativeNeighbours})+knn(shrinkage={options.KnnShrinkage}, items={tail.Length}), top {options.Neighbours}");
        return new Fitted(rows, method, dense.Length);
    }

    /// <summary>
    /// Item-kNN rows for the tail items, scaled so their strongest neighbour weighs what a dense row's does on average
    /// (the ranking adds both kinds of row for one user).
    /// </summary>
    private static void AddKnn(PurchaseMatrix matrix, int[] tail, int[] customers, TrainingOptions options, Dictionary<string, ItemNeighbour[]> rows, CancellationToken ct)
    {
        var itemCount = matrix.Items.Count;
        var buyers = new List<int>[itemCount];
        for (var u = 0; u < matrix.Users.Count; u++)
        {
            foreach (var item in matrix.Users[u]) (buyers[item] ??= []).Add(u);
        }
        var knnRows = new (int Index, double Weight)[tail.Length][];
        Parallel.For(0, tail.Length, new ParallelOptions { MaxDegreeOfParallelism = options.SolverThreads, CancellationToken = ct },
            () => (Counts: new int[itemCount], Touched: new List<int>()),
            (k, _, scratch) =>
            {
                var item = tail[k];
                foreach (var user in buyers[item] ?? [])
                {
                    foreach (var other in matrix.Users[user])
                    {
                        if (other == item) continue;
                        if (scratch.Counts[other]++ == 0) scratch.Touched.Add(other);
                    }
                }
                var similarities = new double[scratch.Touched.Count];
                for (var t = 0; t < scratch.Touched.Count; t++)
                {
                    var other = scratch.Touched[t];
                    similarities[t] = scratch.Counts[other] / (Math.Sqrt((double)customers[item] * customers[other]) + options.KnnShrinkage);
                    scratch.Counts[other] = 0;
                }
                knnRows[k] = TopPositive(similarities, options.Neighbours, skip: -1).Select(s => (scratch.Touched[s.Index], s.Weight)).ToArray();
                scratch.Touched.Clear();
                return scratch;
            },
            _ => { });

        var denseTop = rows.Values.Select(r => (double)r[0].Weight).DefaultIfEmpty(1).Average();
        var knnTop = knnRows.Where(r => r.Length > 0).Select(r => r[0].Weight).DefaultIfEmpty(1).Average();
        var scale = knnTop > 0 ? denseTop / knnTop : 1;
        for (var k = 0; k < tail.Length; k++)
        {
            if (knnRows[k].Length > 0) rows[matrix.Items[tail[k]]] = knnRows[k].Select(s => new ItemNeighbour(matrix.Items[s.Index], (float)(s.Weight * scale))).ToArray();
        }
    }

    /// <summary>The <paramref name="count"/> largest positive values by descending weight (ties by position), never <paramref name="skip"/>.</summary>
    public static (int Index, double Weight)[] TopPositive(ReadOnlySpan<double> values, int count, int skip)
    {
        var heap = new PriorityQueue<int, (double Weight, int Index)>(count + 1, SmallestFirst.Instance);
        for (var i = 0; i < values.Length; i++)
        {
            if (i == skip || !(values[i] > 0)) continue;
            heap.Enqueue(i, (values[i], i));
            if (heap.Count > count) heap.Dequeue();
        }
        var top = new (int Index, double Weight)[heap.Count];
        for (var k = top.Length - 1; k >= 0; k--)
        {
            var index = heap.Dequeue();
            top[k] = (index, values[index]);
        }
        return top;
    }

    /// <summary>The heap's root is the weakest kept entry: smaller weight, or the later position on a tie.</summary>
    private sealed class SmallestFirst : IComparer<(double Weight, int Index)>
    {
        public static readonly SmallestFirst Instance = new();

        public int Compare((double Weight, int Index) x, (double Weight, int Index) y)
        {
            var byWeight = x.Weight.CompareTo(y.Weight);
            return byWeight != 0 ? byWeight : y.Index.CompareTo(x.Index);
        }
    }
}
