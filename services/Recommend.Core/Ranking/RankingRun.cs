using Microsoft.Extensions.Logging;
using Recommend.Core.Catalog;
using Recommend.Core.Diagnostics;
using Recommend.Core.History;
using Recommend.Core.Vectors;

namespace Recommend.Core.Ranking;

internal sealed record ScoredCandidate(Candidate Candidate, Product Product, double Score);

/// <summary>The state of one ranking request: candidates, exclusions, anchors and whether a signal failed.</summary>
internal sealed class RankingRun(RequestOptions options, RankingProfile profile, CancellationToken ct)
{
    private readonly Dictionary<string, Candidate> candidates = new(StringComparer.Ordinal);
    private readonly HashSet<string> excluded = new(StringComparer.Ordinal);
    private Anchors anchors = Anchors.Context([]);
    private ProductFilter? indexFilter;

    public RequestOptions Options { get; } = options;
    public RankingProfile Profile { get; } = profile;
    public CancellationToken CancellationToken { get; } = ct;
    public bool Degraded { get; private set; }

    public int CandidateCount => candidates.Count;
    /// <summary>How many eligible candidates are hydrated and diversified: four per requested item, at least 40.</summary>
    public int PoolSize => Math.Max(Options.Limit * 4, 40);
    public IEnumerable<string> CandidateIds => candidates.Keys;
    /// <summary>Anchors most likely named in reasons (the heaviest), read with the first candidates so most answers need no second read.</summary>
    public IEnumerable<string> LikelyReasonAnchors => anchors.CoPurchaseSources(ReasonAnchorsPrefetched);

    private const int ReasonAnchorsPrefetched = 10;

    /// <summary>The request's filter plus every exclusion so far, pushed down to the vector index.</summary>
    public ProductFilter IndexFilter => indexFilter ??= Options.Filter.Excluding(excluded);

    public IReadOnlyCollection<string> AnchorIds => anchors.Keys;

    /// <summary>The chosen products whose similarity no source attributed to an anchor: their reasons name the nearest one.</summary>
    public IReadOnlyList<string> Unattributed(IReadOnlyList<ScoredCandidate> chosen) =>
        chosen.Where(c => c.Candidate.SimilarTo is null && (c.Candidate.Similarity > 0 || c.Candidate.IsNeighbour))
            .Select(c => c.Candidate.ProductId).ToList();

    public void Exclude(IEnumerable<string> productIds)
    {
        excluded.UnionWith(productIds);
        indexFilter = null;
    }

    public void AddAnchors(Anchors value) => anchors = value;

    public double AnchorWeight(string productId) => anchors[productId]?.Weight ?? 1;

    /// <summary>The anchor's <see cref="Anchor.Presence"/>: the learned model's input weight.</summary>
    public double AnchorPresence(string productId) => anchors[productId]?.Presence ?? 1;

    public Candidate Candidate(string productId, bool fromFilteredIndex)
    {
        if (!candidates.TryGetValue(productId, out var candidate)) candidates[productId] = candidate = new Candidate(productId);
        candidate.FromFilteredIndex |= fromFilteredIndex;
        return candidate;
    }

    public void Degrade(string signal, Exception ex, ILogger logger)
    {
        Degraded = true;
        CoreTelemetry.SignalDegraded(signal);
        logger.LogWarning(ex, "Ranking signal {Signal} unavailable; serving without it", signal);
    }

    /// <summary>
    /// Candidates not excluded and with a positive score, or nearest neighbours within the filters, best first (ties by
    /// neighbour cosine, then id): the order they are hydrated in.
    /// </summary>
    /// <remarks>
    /// One list sorted in place with one comparison: a LINQ OrderBy/ThenBy chain allocates a key array per level on
    /// every call, about a tenth of what a <c>Recommend</c> call allocated at 1 M products (docs/benchmarks.md).
    /// </remarks>
    public List<(Candidate Candidate, double Score)> Ranked()
    {
        var ranked = new List<(Candidate Candidate, double Score)>(candidates.Count);
        foreach (var candidate in candidates.Values)
        {
            if (excluded.Contains(candidate.ProductId)) continue;
            var score = candidate.Score(Profile);
            if (score > 0 || candidate.IsNeighbour) ranked.Add((candidate, score));
        }
        ranked.Sort(InRankOrder);
        return ranked;
    }

    /// <summary>The <paramref name="count"/> first of <see cref="Ranked"/>.</summary>
    public IEnumerable<Candidate> Leading(int count) => Ranked().Take(count).Select(c => c.Candidate);

    /// <summary>Best score first, ties by neighbour cosine, then by id: a total order, so the sort's instability never shows.</summary>
    private static int InRankOrder((Candidate Candidate, double Score) a, (Candidate Candidate, double Score) b)
    {
        var byScore = b.Score.CompareTo(a.Score);
        if (byScore != 0) return byScore;
        var byCosine = b.Candidate.NeighbourCosine.CompareTo(a.Candidate.NeighbourCosine);
        return byCosine != 0 ? byCosine : string.CompareOrdinal(a.Candidate.ProductId, b.Candidate.ProductId);
    }

    /// <summary>
    /// Whether a candidate may be shown, judged on the catalog of record (the index payload may be stale, and a deleted
    /// product must never be shown). Without the catalog (null), only index hits filtered at the source remain.
    /// </summary>
    public ScoredCandidate? Eligible(Candidate candidate, double score, IReadOnlyDictionary<string, Product>? products)
    {
        if (products is null)
        {
            return candidate.FromFilteredIndex
                ? new ScoredCandidate(candidate, new Product(candidate.ProductId, "", "", "", 0, false, Product.NoAttributes), score)
                : null;
        }
        return products.TryGetValue(candidate.ProductId, out var product) && product.Passes(Options.Filter)
            ? new ScoredCandidate(candidate, product, score)
            : null;
    }

    public RecommendationResult Result(
        IReadOnlyList<ScoredCandidate> chosen, IReadOnlyDictionary<string, string> nearestAnchors, IReadOnlyDictionary<string, Product>? products)
    {
        string TitleOf(string id) => products?.GetValueOrDefault(id)?.Title is { Length: > 0 } title ? title : id;
        var items = chosen.Select(c => new RecommendedProduct(c.Product, c.Score, Reasons(c.Candidate, nearestAnchors, TitleOf), DetailsKnown: products is not null)).ToList();
        return new RecommendationResult(Guid.CreateVersion7().ToString("N"), items, Degraded, Profile.Name);
    }

    /// <summary>The products the reasons of <paramref name="chosen"/> name, whose titles the answer needs.</summary>
    public IReadOnlySet<string> ReasonAnchors(IReadOnlyList<ScoredCandidate> chosen, IReadOnlyDictionary<string, string> nearestAnchors)
    {
        var named = new HashSet<string>(StringComparer.Ordinal);
        foreach (var c in chosen)
        {
            Reasons(c.Candidate, nearestAnchors, id =>
            {
                named.Add(id);
                return id;
            });
        }
        return named;
    }

    private List<Reason> Reasons(Candidate candidate, IReadOnlyDictionary<string, string> nearestAnchors, Func<string, string> titleOf)
    {
        var reasons = new List<(double Weight, Reason Reason)>();

        if (candidate.Similarity > 0 && Profile.SimilarityWeight > 0
            && (candidate.SimilarTo ?? NearestAnchor(candidate.ProductId, nearestAnchors)) is { } anchorId)
        {
            var anchor = anchors[anchorId];
            var reason = anchor?.Type is { } type
                ? new Reason(ReasonKind.History, anchorId, $"Because you {Verb(type)} {titleOf(anchorId)}")
                : new Reason(ReasonKind.Similar, anchorId, $"Similar to {titleOf(anchorId)}");
            reasons.Add((Profile.SimilarityWeight * candidate.Similarity, reason));
        }
        if (candidate.CoPurchase > 0 && candidate.BoughtWith is { } with && Profile.CoPurchaseWeight > 0)
            reasons.Add((Profile.CoPurchaseWeight * candidate.CoPurchase, new Reason(ReasonKind.BoughtTogether, with, $"Often bought with {titleOf(with)}")));
        if (candidate.Learned > 0 && candidate.AlsoBoughtAfter is { } after && Profile.LearnedWeight > 0)
            reasons.Add((Profile.LearnedWeight * candidate.Learned, new Reason(ReasonKind.CustomersAlsoBought, after,
                $"Customers who bought {titleOf(after)} also bought this")));
        if (candidate.Repeat > 0 && Profile.BuyAgainWeight > 0)
            reasons.Add((Profile.BuyAgainWeight * candidate.Repeat, new Reason(ReasonKind.BuyAgain, candidate.ProductId, "You bought this before")));
        if (candidate.Trending > 0 && Profile.TrendingWeight > 0)
            reasons.Add((Profile.TrendingWeight * candidate.Trending, new Reason(ReasonKind.Trending, null,
                candidate.TrendingCategory is { Length: > 0 } category ? $"Trending in {category}" : "Trending now")));
        if (candidate.SearchMatch > 0)
            reasons.Add((candidate.SearchMatch, new Reason(ReasonKind.Search, null, "Matches your search")));
        if (reasons.Count == 0 && candidate.IsNeighbour
            && (candidate.SimilarTo ?? NearestAnchor(candidate.ProductId, nearestAnchors)) is { } closestTo)
            reasons.Add((0, new Reason(ReasonKind.Similar, closestTo, $"Closest match to {titleOf(closestTo)}")));

        return reasons.OrderByDescending(r => r.Weight).Select(r => r.Reason).ToList();
    }

    /// <summary>The anchor whose vector is closest to the candidate's, as the index found it; the first anchor when it could not.</summary>
    private string? NearestAnchor(string productId, IReadOnlyDictionary<string, string> nearestAnchors) =>
        nearestAnchors.GetValueOrDefault(productId) ?? anchors.Keys.FirstOrDefault();

    private static string Verb(EventType type) => type switch
    {
        EventType.Purchase => "bought",
        EventType.AddToCart => "added to your cart",
        EventType.Click => "looked at",
        _ => "viewed",
    };
}
