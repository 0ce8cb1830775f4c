namespace Recommend.Core.Ranking;

/// <summary>A product gathered by one or more candidate sources, with each source's normalised evidence (0..1).</summary>
internal sealed class Candidate(string productId)
{
    public string ProductId { get; } = productId;

    public double Similarity { get; private set; }
    /// <summary>The anchor the similarity is to; null until attributed from vectors (profile neighbours).</summary>
    public string? SimilarTo { get; set; }

    /// <summary>Came from an index query that already applied the request's filters.</summary>
    public bool FromFilteredIndex { get; set; }

    public double CoPurchase { get; private set; }
    public string? BoughtWith { get; private set; }

    public double Trending { get; private set; }
    public string? TrendingCategory { get; private set; }

    public double SearchMatch { get; private set; }

    /// <summary>The learned model's score relative to the best candidate's, and the anchor that contributed most.</summary>
    public double Learned { get; private set; }
    public string? AlsoBoughtAfter { get; private set; }

    /// <summary>
    /// Returned by a nearest-neighbour query that applied the request's filters. Such a product is shown even when its
    /// cosine is not positive: a storefront asking for 20 in a category of 30 expects 20, the closest first.
    /// </summary>
    public bool IsNeighbour { get; private set; }

    /// <summary>The neighbour query's raw cosine (it may be negative), which orders neighbours that score nothing else.</summary>
    public double NeighbourCosine { get; private set; } = double.NegativeInfinity;

    public void AddNeighbour(double cosine, string? anchor)
    {
        IsNeighbour = true;
        if (cosine > NeighbourCosine) NeighbourCosine = cosine;
        if (cosine <= 0) SimilarTo ??= anchor;
        AddSimilarity(cosine, anchor);
    }

    public void AddSimilarity(double similarity, string? anchor)
    {
        if (similarity <= Similarity) return;
        (Similarity, SimilarTo) = (similarity, anchor);
    }

    /// <summary>Associations add up: a product bought with several of the anchors is a stronger match.</summary>
    public void AddCoPurchase(double association, string source)
    {
        if (association > strongestAssociation) (strongestAssociation, BoughtWith) = (association, source);
        CoPurchase += association;
    }

    private double strongestAssociation;

    public void AddTrending(double popularity, string category) =>
        (Trending, TrendingCategory) = (Math.Max(Trending, popularity), category);

    public void AddSearchMatch(double similarity) => SearchMatch = Math.Max(SearchMatch, similarity);

    public void SetLearned(double score, string anchor) => (Learned, AlsoBoughtAfter) = (score, anchor);

    /// <summary>How strongly the customer's own purchases of this product (recency × count) say they will buy it again, 0..1.</summary>
    public double Repeat { get; private set; }

    public void SetRepeat(double strength) => Repeat = strength;

    public double Score(RankingProfile profile) =>
        profile.SimilarityWeight * Similarity
        + profile.CoPurchaseWeight * CoPurchase
        + profile.TrendingWeight * Trending
        + profile.LearnedWeight * Learned
        + profile.BuyAgainWeight * Repeat
        + SearchMatch;
}
