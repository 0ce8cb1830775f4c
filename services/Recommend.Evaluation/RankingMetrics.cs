namespace Recommend.Evaluation;

/// <summary>Accuracy and coverage of one method's top-K lists, averaged over customers.</summary>
public sealed record MethodScore(double Ndcg, double Recall, double Precision, double Mrr, double HitRate, double Coverage, int Users);

/// <summary>
/// Top-K metrics with binary relevance: NDCG@K (ideal DCG over min(|targets|, K) hits), Recall@K = hits / |targets|,
/// Precision@K = hits / K, MRR = 1 / rank of the first hit (0 without one), hit rate = share of customers with a hit,
/// coverage = distinct products over all lists / catalog size.
/// </summary>
public sealed class RankingMetrics(int k, int catalogSize)
{
    private readonly HashSet<string> _shown = new(StringComparer.Ordinal);
    private double _ndcg, _recall, _precision, _mrr, _hits;
    private int _users;

    public static double Ndcg(IReadOnlyList<string> ranked, IReadOnlySet<string> targets, int k)
    {
        double dcg = 0, ideal = 0;
        for (var i = 0; i < Math.Min(k, ranked.Count); i++)
        {
            if (targets.Contains(ranked[i])) dcg += 1 / Math.Log2(i + 2);
        }
        for (var i = 0; i < Math.Min(k, targets.Count); i++) ideal += 1 / Math.Log2(i + 2);
        return ideal == 0 ? 0 : dcg / ideal;
    }

    public static double ReciprocalRank(IReadOnlyList<string> ranked, IReadOnlySet<string> targets, int k)
    {
        for (var i = 0; i < Math.Min(k, ranked.Count); i++)
        {
            if (targets.Contains(ranked[i])) return 1.0 / (i + 1);
        }
        return 0;
    }

    public void Add(IReadOnlyList<string> ranked, IReadOnlySet<string> targets)
    {
        var top = ranked.Take(k).ToList();
        var hits = top.Count(targets.Contains);
        lock (_shown)
        {
            _ndcg += Ndcg(top, targets, k);
            _recall += (double)hits / targets.Count;
            _precision += (double)hits / k;
            _mrr += ReciprocalRank(top, targets, k);
            _hits += hits > 0 ? 1 : 0;
            _users++;
            _shown.UnionWith(top);
        }
    }

    public MethodScore Score()
    {
        lock (_shown)
        {
            var n = Math.Max(1, _users);
            return new MethodScore(_ndcg / n, _recall / n, _precision / n, _mrr / n, _hits / n, (double)_shown.Count / Math.Max(1, catalogSize), _users);
        }
    }
}
