namespace Recommend.Evaluation.Tests;

/// <summary>The metrics against values worked out by hand.</summary>
public sealed class MetricTests
{
    private static readonly HashSet<string> Targets = ["b", "d", "x"];

    [Fact]
    public void Ndcg_discounts_hits_by_rank_against_the_ideal_list()
    {
        // Hits at ranks 2 and 4: DCG = 1/log2(3) + 1/log2(5) = 0.630930 + 0.430677; ideal (3 targets, k = 4) = 1 + 0.630930 + 0.5.
        Assert.Equal((0.630930 + 0.430677) / 2.130930, RankingMetrics.Ndcg(["a", "b", "c", "d"], Targets, 4), 5);
        Assert.Equal(1, RankingMetrics.Ndcg(["b", "d", "x"], Targets, 10), 9);
        Assert.Equal(0, RankingMetrics.Ndcg(["a", "c"], Targets, 10));
        // Only the first k count: the hit at rank 4 is cut at k = 3.
        Assert.Equal(0.630930 / 2.130930, RankingMetrics.Ndcg(["a", "b", "c", "d"], Targets, 3), 5);
    }

    [Fact]
    public void Reciprocal_rank_is_of_the_first_hit_within_k()
    {
        Assert.Equal(0.5, RankingMetrics.ReciprocalRank(["a", "b", "c", "d"], Targets, 4));
        Assert.Equal(0, RankingMetrics.ReciprocalRank(["a", "c", "b"], Targets, 2));
    }

    [Fact]
    public void Scores_average_over_customers_and_coverage_counts_distinct_products_shown()
    {
        var metrics = new RankingMetrics(k: 4, catalogSize: 10);
        metrics.Add(["a", "b", "c", "d"], Targets);  // 2 hits
        metrics.Add(["e", "f", "a"], new HashSet<string> { "q" }); // none; a short list

        var score = metrics.Score();

        Assert.Equal(2, score.Users);
        Assert.Equal((1.061607 / 2.130930 + 0) / 2, score.Ndcg, 5);
        Assert.Equal((2.0 / 3 + 0) / 2, score.Recall, 9);
        Assert.Equal((2.0 / 4 + 0) / 2, score.Precision, 9);
        Assert.Equal((0.5 + 0) / 2, score.Mrr, 9);
        Assert.Equal(0.5, score.HitRate, 9);
        Assert.Equal(6 / 10.0, score.Coverage, 9); // a b c d e f
    }
}
