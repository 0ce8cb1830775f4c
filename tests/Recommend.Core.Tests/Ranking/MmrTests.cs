using Recommend.Core.Catalog;
using Recommend.Core.Ranking;

namespace Recommend.Core.Tests.Ranking;

public class MmrTests
{
    private static ScoredCandidate Scored(string id, double score) =>
        new(new Candidate(id), new Product(id, id, "", "", 1, true, Product.NoAttributes), score);

    // a and a-twin point the same way; b is orthogonal to both.
    private static readonly Dictionary<string, float[]> Vectors = new()
    {
        ["a"] = [1, 0], ["a-twin"] = [1, 0], ["b"] = [0, 1],
    };

    [Fact]
    public void Lambda_one_keeps_the_relevance_order()
    {
        var ranked = new[] { Scored("a", 1.0), Scored("a-twin", 0.9), Scored("b", 0.5) };

        var picked = Mmr.Select(ranked, Vectors, 3, lambda: 1);

        Assert.Equal(["a", "a-twin", "b"], picked.Select(p => p.Candidate.ProductId));
    }

    [Fact]
    public void A_lower_lambda_puts_a_different_item_before_a_near_duplicate()
    {
        var ranked = new[] { Scored("a", 1.0), Scored("a-twin", 0.9), Scored("b", 0.5) };

        // a-twin: 0.5·0.9 − 0.5·1 = −0.05; b: 0.5·0.5 − 0 = 0.25.
        var picked = Mmr.Select(ranked, Vectors, 2, lambda: 0.5);

        Assert.Equal(["a", "b"], picked.Select(p => p.Candidate.ProductId));
    }

    [Fact]
    public void Items_without_vectors_compete_on_relevance_alone_and_k_bounds_the_result()
    {
        var ranked = new[] { Scored("a", 1.0), Scored("unindexed", 0.95), Scored("a-twin", 0.9) };

        Assert.Equal(["a", "unindexed"], Mmr.Select(ranked, Vectors, 2, lambda: 0.5).Select(p => p.Candidate.ProductId));
        Assert.Empty(Mmr.Select([], Vectors, 5, lambda: 0.5));
    }
}
