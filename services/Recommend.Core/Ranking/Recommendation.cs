using Recommend.Core.Catalog;
using Recommend.Core.Vectors;

namespace Recommend.Core.Ranking;

public enum ReasonKind
{
    Similar,
    BoughtTogether,
    Trending,
    History,
    Search,
}

/// <param name="RelatedProductId">The product that caused the reason, or null (trending, search).</param>
public sealed record Reason(ReasonKind Kind, string? RelatedProductId, string Text);

public sealed record RecommendedProduct(Product Product, double Score, IReadOnlyList<Reason> Reasons);

/// <param name="Degraded">A signal was unavailable and a fallback served.</param>
public sealed record RecommendationResult(
    string RecommendationId,
    IReadOnlyList<RecommendedProduct> Items,
    bool Degraded,
    string Profile);

/// <summary>What every storefront call shares.</summary>
public sealed record RequestOptions(int Limit, ProductFilter Filter, string? UserId, bool IncludePurchased, string? Placement)
{
    public const int DefaultLimit = 10;
    public const int MaxLimit = 100;
}
