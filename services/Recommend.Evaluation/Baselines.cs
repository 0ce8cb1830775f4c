using Recommend.Core.History;
using Recommend.Training;

namespace Recommend.Evaluation;

/// <summary>A way of ranking products for a customer, scored by the evaluation.</summary>
public interface IRanker
{
    string Name { get; }

    /// <summary>The top <paramref name="k"/> for the customer; in <see cref="Setting.NewItems"/> never a product they bought before.</summary>
    Task<IReadOnlyList<string>> RankAsync(string userId, Setting setting, int k, CancellationToken ct);
}

/// <summary>
/// The classic baselines, fitted in memory on the training purchases only: popularity (customers per product),
/// user-level item-kNN (Σ of cosine similarities to the customer's products), EASE (λ = 200, Steck 2019) over the
/// whole binary user × item matrix, and for buy-again the customer's own purchases by how often they bought them.
/// Dense items² work: meant for catalogs up to a few tens of thousands of products.
/// </summary>
public sealed class Baselines
{
    public const double EaseLambda = 200;

    private readonly PurchaseMatrix _matrix;
    private readonly Dictionary<string, int[]> _history;
    private readonly IReadOnlyList<PurchaseSummary> _summaries;

    private Baselines(PurchaseMatrix matrix, Dictionary<string, int[]> history, IReadOnlyList<PurchaseSummary> summaries)
    {
        _matrix = matrix;
        _history = history;
        _summaries = summaries;
    }

    public static async Task<Baselines> FitAsync(IReadOnlyList<Purchase> train, CancellationToken ct)
    {
        var summaries = train.GroupBy(p => (p.UserId, p.ProductId))
            .Select(g => new PurchaseSummary(g.Key.UserId, g.Key.ProductId, g.Count(), g.Max(p => p.OccurredAt)))
            .OrderBy(s => s.UserId, StringComparer.Ordinal).ThenBy(s => s.ProductId, StringComparer.Ordinal)
            .ToList();
        var users = summaries.Select(s => s.UserId).Distinct(StringComparer.Ordinal).ToList();
        var matrix = await PurchaseMatrix.BuildAsync(summaries.ToAsyncEnumerable(), int.MaxValue, ct);
        var history = new Dictionary<string, int[]>(StringComparer.Ordinal);
        for (var u = 0; u < users.Count; u++) history[users[u]] = matrix.Users[u];
        return new Baselines(matrix, history, summaries);
    }

    /// <summary>Buy again what you bought most often (then most recently); nothing in the new-items setting.</summary>
    public IRanker Repeats()
    {
        var byUser = _summaries.GroupBy(s => s.UserId, StringComparer.Ordinal).ToDictionary(
            g => g.Key, g => g.OrderByDescending(s => s.Purchases).ThenByDescending(s => s.LastPurchasedAt).Select(s => s.ProductId).ToList(), StringComparer.Ordinal);
        return new ListRanker("repeat purchases", (user, setting, k) =>
            setting == Setting.BuyAgain && byUser.TryGetValue(user, out var own) ? own.Take(k).ToList() : []);
    }

    private sealed class ListRanker(string name, Func<string, Setting, int, IReadOnlyList<string>> rank) : IRanker
    {
        public string Name => name;

        public Task<IReadOnlyList<string>> RankAsync(string userId, Setting setting, int k, CancellationToken ct) => Task.FromResult(rank(userId, setting, k));
    }

    public IRanker Popularity()
    {
        var customers = new double[_matrix.Items.Count];
        foreach (var user in _matrix.Users)
        {
            foreach (var item in user) customers[item]++;
        }
        return new MatrixRanker("popularity", this, _ => customers);
    }

    public IRanker ItemKnn()
    {
        var n = _matrix.Items.Count;
        var similarity = new double[(long)n * n];
        var customers = new double[n];
        foreach (var user in _matrix.Users)
        {
            foreach (var a in user)
            {
                customers[a]++;
                foreach (var b in user) similarity[a * n + b]++;
            }
        }
        for (var a = 0; a < n; a++)
        {
            for (var b = 0; b < n; b++) similarity[a * n + b] = a == b ? 0 : similarity[a * n + b] / Math.Sqrt(customers[a] * customers[b]);
        }
        return new MatrixRanker("item-kNN", this, history => SumOfRows(history, similarity, n));
    }

    public IRanker Ease(CancellationToken ct)
    {
        var ease = Training.Ease.Fit(_matrix, Enumerable.Range(0, _matrix.Items.Count).ToArray(), EaseLambda, Environment.ProcessorCount, ct);
        return new MatrixRanker("EASE", this, history => SumOfRows(history, ease.Weights, _matrix.Items.Count));
    }

    /// <summary>x_u · W for a binary x_u: the sum of the customer's rows.</summary>
    private static double[] SumOfRows(int[] history, double[] weights, int n)
    {
        var scores = new double[n];
        foreach (var item in history) System.Numerics.Tensors.TensorPrimitives.Add(scores, weights.AsSpan(item * n, n), scores);
        return scores;
    }

    private sealed class MatrixRanker(string name, Baselines baselines, Func<int[], double[]> scores) : IRanker
    {
        public string Name => name;

        public Task<IReadOnlyList<string>> RankAsync(string userId, Setting setting, int k, CancellationToken ct)
        {
            var history = baselines._history.GetValueOrDefault(userId) ?? [];
            var values = (double[])scores(history).Clone();
            if (setting == Setting.NewItems)
            {
                foreach (var item in history) values[item] = double.NegativeInfinity;
            }
            var top = ItemModelFitter.TopPositive(values, k, skip: -1);
            // Fewer positive scores than k (a customer with one product): the list is shorter, as a service would answer.
            return Task.FromResult<IReadOnlyList<string>>(top.Select(t => baselines._matrix.Items[t.Index]).ToList());
        }
    }
}
